// Package irbuild builds the IR of one proxy group from a validated model:
// Build(cfg, node) picks the Gateways that select the node's labels, binds
// their VirtualServices, resolves secrets, clusters and policies, and
// returns a sorted *ir.Proxy or every user error it found, each at its file,
// object and field. Selectors lists the proxy groups a configuration
// describes; UnservedHosts reports VirtualService hosts no server serves.
// A port's servers are built on every core (build_parallel.go); the result
// is the same as building them one after the other. With a Memo held across
// builds (BuildWithMemo; compile.Cache holds one), a server whose inputs are
// unchanged is taken from the last build instead of built (memo.go), the
// passes after the servers working on copies (passcopy.go).
//
// Pipeline position: model.Load -> model.Validate -> irbuild.Build (this
// package) -> ir -> translate -> server. It is the only stage that reads both
// model and ir types. It must not import go-control-plane, Envoy or gRPC
// protos, translate or the server: Envoy is translate's business.
package irbuild
