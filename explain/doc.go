// Package explain answers "what would Envoy do with this connection and
// this request?" for a trustgate configuration: it compiles the
// configuration exactly as `trustgate serve` does (compile.Load with
// ForServe, then the proxy group's resources), hands the Envoy resources to
// the model of Envoy's request path (xds/envoymodel), and renders the trace
// as text or JSON. `trustgate explain` only parses flags and calls it.
//
// It sits after the pipeline and beside the server; nothing in the pipeline
// imports it.
package explain
