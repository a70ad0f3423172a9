// Package compile compiles one loaded configuration per proxy group:
// model.Load -> Config.Validate -> irbuild.Build -> translate.Translate (which
// checks its own output). It is the only library package that sees both the
// model and Envoy resources. cmd/trustgate uses it, and hands the server a
// Loader built on it (the server itself never imports it); it must not
// import xds/server or do any I/O after Load. A Cache (WithCache) carries the
// model's and translate's caches from one load to the next.
package compile
