// Package translate turns the IR of one proxy group into Envoy xDS resources.
//
// Pipeline position: model.Load -> model.Validate -> irbuild.Build ->
// translate (this package) -> server. Translate is pure and deterministic: no
// I/O, clock or globals, every output sorted by name, so the same IR gives
// byte-identical resources on every replica. Check validates what Translate produced
// (protoc-gen-validate rules, cross-resource references, RE2 regexes), and
// Translate runs it on its own output so nothing invalid leaves the package.
//
// One builder per Envoy concept, one file per concept: listener.go, tls.go,
// hcm.go, accesslog.go, tcp.go, route.go, cors.go, cluster.go, secret.go,
// rbac*.go, matcher.go. Resource names come only from package ir (names.go); filter and
// extension names from go-control-plane's wellknown package or wellknown.go.
//
// This package must not import model, nor anything that does I/O; it may
// import ir, go-control-plane's Envoy protos and pkg/wellknown, protobuf, and
// the leaves internal/envoyfmt, internal/re2size and internal/protowalk.
package translate
