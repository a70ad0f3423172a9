// Package server serves the compiled configuration to Envoy over ADS, both
// state-of-the-world and incremental (delta), and reloads it when files
// change.
//
// Pipeline position: the last stage. files -> model.Load -> model.Validate ->
// irbuild.Build -> translate -> (this package) snapshot -> ADS. It sees the
// rest of the pipeline only through Config and Loader, which the caller
// provides, and translate.Resources, which Compile returns (and dump renders
// for /debug/config); it must not import model, ir or irbuild, and it never
// builds Envoy resources itself.
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
//
// Bad clients: every request passes a guard (guard.go) before
// go-control-plane sees it. With Options.Authorizer (mutual TLS and the
// node-identity rule of package xdstls, wired by `trustgate serve`), the
// node of a stream's first request must be authorized before its group is
// compiled, and every later request must carry the same node or none:
// otherwise the stream ends with PermissionDenied. A request naming over
// 100k resources or over 16 MiB ends its stream with InvalidArgument; a
// request for a type that is not served is dropped (no watch is kept for
// it). gRPC bounds the rest (grpc.go): 32 MiB per request, 64 MiB per
// response, 16 streams per connection, pings at most every 15s, 10s to
// complete a handshake. Names a proxy asks for that its group does not serve
// get nothing, and are logged and counted (unknown.go). Refusals count in
// trustgate_xds_denied_streams_total{reason}, unknown names and types in
// trustgate_xds_unknown_resource_requests_total{type}.
package server
