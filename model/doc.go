// Package model is trustgate's input: Istio-compatible kinds (Gateway,
// VirtualService, DestinationRule, ServiceEntry, AuthorizationPolicy,
// Secret, and the ConfigMap holding Istio's mesh configuration, of which
// the access-log fields are read) and trustgate's own
// ClientCertificatePolicy.
//
// Pipeline position: files -> Load -> Validate (this package) -> irbuild.Build
// -> translate -> server.
//
// Load reads YAML files and directories (a mounted ConfigMap's ..data layout
// included) and a secrets directory, decoding each document with the line of
// every field so that every user error reads
// "file:line: Kind namespace/name: field.path: message". It also reads the
// files Istio's file fields name into Config.Files, so later stages never
// touch the file system. Only regular files are read. Certificate material
// is read as PEM from all three sources: DER and PKCS#7 are converted when
// read (toPEM), since Envoy reads PEM only. What a half-written file looks
// like is an error, never "nothing" or "not set": an empty or comment-only
// file, an empty document, a key with no value, an empty {} or [] where a
// security setting belongs (validate_failsafe.go). Validate reports every
// semantic error at once, and LoadAndValidate reports both stages' in one
// run.
// LoadWith is Load with a Cache (cache.go, load_cached.go) held across
// loads: each document is decoded once per distinct text (SHA-256), its
// positions rebased to wherever it now is, so a reload decodes only what
// changed and every result is the same as Load's. ValidateWith validates
// through the same Cache: an object is checked again only when it is new
// or what its checks read besides it changed (validate_memo.go).
// ResolveCredential and ResolveCACredential are the one place secret names
// are resolved, for Validate and irbuild.Build alike.
//
// This package must not import go-control-plane, Envoy protos or any other
// trustgate package but the leaves in internal/ (envoyfmt, re2size,
// pembundle, regularfile, suggest, gencache): the IR (xds/ir) is the
// contract between the model and the translator, and xds/irbuild the only
// bridge from one to the other.
package model
