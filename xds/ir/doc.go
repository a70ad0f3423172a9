// Package ir is the contract between the model and the Envoy translator: the
// plain types a proxy group's configuration is made of, and the names of the
// Envoy resources they become (names.go).
//
// Pipeline position: model.Load -> model.Validate -> irbuild.Build -> ir (this
// package) -> translate -> server. The IR is resolved (certificates as PEM,
// secrets named, hosts expanded, policies attached to the chains they
// govern), defaulted and sorted, so that translate is a pure, mechanical
// mapping to Envoy protos.
//
// This package imports only the standard library: nothing of trustgate's
// (the model is read by xds/irbuild, never here) and no go-control-plane or
// Envoy proto. internal/layers tests the rule on the import graph.
package ir
