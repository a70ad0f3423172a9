// Package examples holds no code: each sub-directory is a runnable scenario
// (Istio YAML, a ClientCertificatePolicy where needed, a certs.sh and a
// README), and the tests in this directory keep every one of them working.
//
// Pipeline position: outside it, as a user. The tests build the trustgate
// binary (for certs.sh), then run the whole pipeline through the pipeline
// package (files -> model.Load -> Validate -> irbuild.Build -> translate ->
// Check) for every Gateway selector of every example, and assert on the
// resulting Envoy resources: what they check is what Envoy would receive.
// They use model for its LoadOptions only, ir for the names of resources
// only, and translate for its Resources and Check; they must not import the
// builder (irbuild). reload_test.go serves every example as `trustgate
// serve` does (source/file and xds/server, in process, to the fake Envoys
// of xds/server/envoytest) and rewrites its files under them.
package examples
