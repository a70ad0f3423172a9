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
// Listeners, clusters, routes and endpoints are served by this package's own
// caches (sotwcache.go, deltacache.go), which keep go-control-plane's
// SnapshotCache rules but share each type's responses between a group's
// proxies and keep per-proxy work off the reload path; a gRPC codec
// (codec.go) sends a SotW type's bytes, encoded once, to every stream
// without copying them. Secrets stay on go-control-plane's SnapshotCache.
// Versions are content hashes (per type for SotW, per resource for delta), so
// replicas agree, no change means no push, and a certificate rotation pushes
// only secrets. A reload that fails in any way changes nothing that is
// served. Three go-control-plane v0.14 behaviours are worked around: the ADS
// cache withholding secrets Envoy asks for in two steps (cache.go), a NACK
// bouncing the rejected version straight back (callbacks.go), and a new
// SotW stream being sent everything again (resume.go).
//
// Reloads are transactions over settled input (watch.go, reload.go,
// inputs.go): atomic replacements (a rename into place, a Kubernetes
// "..data" swap) load after the debounce; a file written in place loads
// only once it has not changed for Options.Settle; a load during which an
// input file changed is dropped (ErrInputsChanged) and done again. A reload
// that would empty a group with connected proxies, or replace a valid
// certificate or CRL with one that is not valid now, is held back and
// retried once that is no longer so (hold.go).
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
// complete a handshake. Names a proxy's group is not served get nothing, as
// before, and are now logged and counted (unknown.go). Refusals count in
// trustgate_xds_denied_streams_total{reason}, unknown names and types in
// trustgate_xds_unknown_resource_requests_total{type}.
package server
