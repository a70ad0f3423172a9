// Package translate turns the IR of one proxy group into Envoy xDS resources.
//
// Pipeline position: model.Load -> model.Validate -> irbuild.Build ->
// translate (this package) -> server. Translate is pure and deterministic: no
// I/O, clock or globals, every output sorted by name, so the same IR gives
// byte-identical resources on every replica. (Three globals, memos that change
// no result: the findings of the typed configs toAny packed, by Any and by
// content, and the access logs' typed configs; packed.go, recent.go,
// any.go.) Check validates what Translate produced
// (protoc-gen-validate rules, cross-resource references, RE2 regexes), and
// Translate runs it on its own output so nothing invalid leaves the package.
//
// Cache (cache.go, key.go) keeps each resource, and each listener's filter
// chain (listener_parts.go), with its check findings, by the content key of
// the IR it came from, so a reload builds, validates and walks only what
// changed; findings that depend on other resources (references) are
// decided against each call's own set, so the output is the same with a
// warm, cold or no cache.
//
// One builder per Envoy concept, one file per concept: listener.go, tls.go,
// hcm.go, accesslog.go, tcp.go, route.go, cors.go, cluster.go, secret.go,
// rbac*.go, matcher.go. Resource names come only from package ir (names.go); filter and
// extension names from go-control-plane's wellknown package or wellknown.go.
//
// This package must not import model, nor anything that does I/O; it may
// import ir, go-control-plane's Envoy protos and pkg/wellknown, protobuf, and
// the leaves internal/envoyfmt, internal/re2size, internal/protowalk,
// internal/rfc2253 and internal/anymemo.
package translate
