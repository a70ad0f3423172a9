// Package examples holds no code: each sub-directory is a runnable scenario
// (Istio YAML, a ClientCertificatePolicy where needed, a certs.sh and a
// README), and the tests in this directory keep every one of them working.
//
// Pipeline position: outside it, as a user. The tests build the trustgate
// binary (for certs.sh), then run the whole pipeline through the pipeline
// package (files -> model.Load -> Validate -> irbuild.Build -> translate ->
// Check) for every Gateway selector of every example, and assert on the
// resulting Envoy resources. They must not reach into model, ir or translate
// internals: what they check is what Envoy would receive.
package examples
