// Package e2e holds no code: its tests run trustgate against a real Envoy.
//
// Pipeline position: the far end of it. The Go tests (envoy_test.go) start
// `trustgate serve` and an Envoy binary (ENVOY_BIN, or envoy on PATH) with a
// bootstrap from `trustgate bootstrap`, and speak TLS to Envoy with Go's
// client; they skip when there is no Envoy. run.sh does the same with Docker
// compose and curl for the mtls-gateway and crl examples. See README.md for
// what each checks.
//
// The tests use trustgate as a user does: its binary, the certs package
// (the development PKI), and compile.Load/Compile to check that their own
// configuration compiles even where no Envoy is installed.
// inprocess_test.go and the reload-safety tests (reload_*_test.go) run no
// Envoy: they serve files as `trustgate serve` does (source/file and
// xds/server, in process) to the fake Envoy of xds/server/envoytest, and edit
// the files under it. They must not import ir, irbuild or translate.
package e2e
