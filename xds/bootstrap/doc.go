// Package bootstrap generates the Envoy bootstrap that connects an Envoy to
// trustgate: node identity and labels, the admin listener, ADS (SotW or
// delta) through a static HTTP/2 "xds_cluster", optionally over mutual TLS
// (trustgate's CA and host name verified, a client certificate presented),
// and a static runtime layer raising RE2's program size limit for the
// regexes of certificate-field rules.
//
// Pipeline position: beside the pipeline, for the Envoy side of ADS; used by
// `trustgate bootstrap` and to generate the files in envoy/. It must not
// import the model, the IR, the translator or the server (only the server's
// labels package, which defines how labels travel in node metadata).
package bootstrap
