// Package labelset is the one canonical key of a label set (Key): the proxy
// labels that group Envoys, and the Gateway selectors that pick them; and
// the one rule by which a selector picks labels (Selects).
//
// Pipeline position: beside every stage. The IR builder (xds/irbuild)
// deduplicates Gateway selectors by it, the pipeline caches a proxy group's
// compiled output by it, and the ADS server keys its proxy groups and
// snapshot caches by it, so a label set means the same group everywhere. It
// imports only the standard library, so that any package (the builder
// included, which must not import go-control-plane) may use it.
package labelset
