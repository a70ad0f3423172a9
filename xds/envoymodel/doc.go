// Package envoymodel is an executable model of what Envoy does with a
// configuration: given Envoy resources (listeners, route configurations,
// clusters, secrets), a connection (port, SNI, client certificate chain,
// resumed or not, source address) and a request (method, authority, path,
// headers), it says which listener and filter chain take the connection,
// whether the TLS handshake passes, which RBAC policies decide, which route
// answers and what reaches the backend, step by step.
//
// It covers the subset of Envoy that trustgate emits and refuses (New
// returns an error) any construct it does not model, so a trace never
// silently describes a different proxy. Every rule is written from Envoy's
// C++ and cites the file and function it follows; where a behaviour could
// not be confirmed in the source the comment says so.
//
// Where it sits: beside the pipeline, never inside it. It reads only Envoy
// protos (go-control-plane types), the standard library and x509 data. It
// must not import trustgate's model, ir, translate or pipeline packages: it
// is the independent judge of what translate produces (a test checks the
// import graph).
package envoymodel
