// Package ir is the contract between the model and the Envoy translator.
//
// Pipeline position: model.Load -> model.Validate -> ir.Build (this package) ->
// translate -> server. The IR is resolved (certificates as PEM, secrets named,
// hosts expanded, policies attached to the chains they govern), defaulted and
// sorted, so that translate is a pure, mechanical mapping to Envoy protos.
//
// The types in this package must not import go-control-plane or any Envoy
// proto; translate must not import model. Build (build*.go) is the only part
// of this package that reads model types.
package ir
