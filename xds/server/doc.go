// Package server serves the compiled configuration to Envoy over ADS, both
// state-of-the-world and incremental (delta), and reloads it when files
// change.
//
// Pipeline position: the last stage. files -> model.Load -> model.Validate ->
// ir.Build -> translate -> (this package) snapshot -> ADS. It sees the rest
// of the pipeline only through Config and Loader, which the caller provides,
// and translate.Resources, which Compile returns; it must not import model or
// ir, and it never builds Envoy resources itself.
//
// Proxies are grouped by the "labels" in their node metadata: proxies with
// equal labels share one snapshot, compiled once when the group's first proxy
// connects and again on every reload, with every resource marshalled once.
// Versions are content hashes (per type for SotW, per resource for delta), so
// replicas agree, no change means no push, and a certificate rotation pushes
// only secrets. A reload that fails in any way changes nothing that is
// served. Three go-control-plane v0.14 behaviours are worked around: the ADS
// cache withholding secrets Envoy asks for in two steps (cache.go), a NACK
// bouncing the rejected version straight back (callbacks.go), and a new
// SotW stream being sent everything again (resume.go).
package server
