// Package server serves the compiled configuration to Envoy over ADS, both
// state-of-the-world and incremental (delta), and reloads it when its
// source says so.
//
// Pipeline position: the last stage. source -> model.Load -> model.Validate
// -> irbuild.Build -> translate -> (this package) snapshot -> ADS. It sees
// the rest of the pipeline only through Source (or Loader) and Config, which
// the caller provides, and translate.Resources, which Compile returns (and
// dump renders for /debug/config); it must not import model, ir, irbuild or
// a source (source/file imports it), and it never reads configuration files
// or builds Envoy resources itself.
//
// Proxies are grouped by the "labels" in their node metadata (keyed by
// labelset.Key): proxies with equal labels share one snapshot, compiled once
// when the group's first proxy connects and again on every reload, with
// every resource marshalled once. A resource compile hands back unchanged
// (the same message, from its content-keyed cache) is neither marshalled
// nor walked for references again (encodings.go), so a reload after a
// one-host edit costs what the edit touched. A group with no proxy is freed after
// Options.GroupGrace or by the next reload, unless a Gateway selector
// declares it, and Options.MaxGroups caps them (groups.go), so memory and
// reload time follow the proxies connected.
// The ADS streams, SotW and delta, are served by this package's own stream
// loop (ads.go) from one immutable state per group and type (store.go):
// every resource marshalled once, a SotW type's response encoded once and
// sent uncopied to every stream by a gRPC codec (codec.go), and so is a
// delta response carrying a whole type. A reload replaces a group's state
// and closes one channel; each stream then works out its responses on its
// own goroutine, so Reload does not grow with the proxies connected and no
// lock is held while writing to streams. What a stream keeps per type is
// O(1) in the size of the configuration in the common case: it points to
// the group's interned set of the names it asks for (names.go; most proxies
// of a group ask for the same names) and, for delta, to the state it holds,
// and has sets or a version map of its own only when it diverges
// (sotwstream.go, deltastream.go). The rules are go-control-plane v0.14's,
// which served these streams before, kept where Envoy relies on them: SotW
// listeners, clusters, routes and endpoints in its ADS mode (whole types; a
// request naming some of a type is not answered), secrets in its non-ADS
// mode (the names asked for: Envoy asks for them in two steps), delta
// responses carrying what differs from what the stream holds. Three of its
// behaviours are not kept: a NACK no longer bounces the rejected version
// straight back (callbacks.go), a new SotW stream presenting the current
// version is not sent everything again (sotwstream.go, resume), and a
// request naming "*" is answered with the whole type, once.
// Versions are content hashes (per type for SotW, per resource for delta), so
// replicas agree, no change means no push, and a certificate rotation pushes
// only secrets. A reload that fails in any way changes nothing that is
// served.
//
// A Source (source.go) loads the configuration and calls reload when it
// may have changed; Reload (reload.go) is also called by `trustgate serve`
// on SIGHUP. A load the source drops because its input changed while it
// was read (ErrInputsChanged) changes nothing; the source loads again once
// the input has settled (source/file says how files settle). A reload that
// would empty a group with connected proxies, or replace a valid
// certificate or CRL with one that is not valid now, is held back and
// retried once that is no longer so (hold.go), but not while the source
// reports its input still settling (Settling).
//
// Bad clients: every request passes a guard (guard.go) before the stream
// loop sees it. With Options.Authorizer (mutual TLS and the
// node-identity rule of package xdstls, wired by `trustgate serve`), the
// node of a stream's first request must be authorized before its group is
// compiled, and every later request must carry the same node or none:
// otherwise the stream ends with PermissionDenied. A request naming over
// 100k resources or over 16 MiB ends its stream with InvalidArgument; a
// request for a type that is not served is dropped (no watch is kept for
// it). gRPC bounds the rest (grpc.go): 32 MiB per request, 64 MiB per
// response, 16 streams per connection, an 8 KiB read buffer, pings at most every 15s, 10s to
// complete a handshake. Names a proxy asks for that its group does not serve
// get nothing, and are logged and counted (unknown.go). The listener caps
// connections and closes those with no stream open for
// Options.IdleTimeout; the guard caps streams (connlimit.go). Every snapshot
// is checked to fit in one response (sendlimit), and a send that fails
// anyway is logged. Refusals count in
// trustgate_xds_denied_streams_total{reason} and
// trustgate_xds_connections_closed_total{reason}, unknown names and types in
// trustgate_xds_unknown_resource_requests_total{type}. The admin endpoints
// answer only Hosts that are IP addresses, localhost or Options.AdminHosts;
// Go's profiles (/debug/pprof/) are served only on a loopback admin
// listener (pprof.go).
package server
