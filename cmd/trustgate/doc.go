// Command trustgate turns Istio-style gateway YAML into Envoy configuration
// for mutual-TLS gateways and serves it over ADS. main only wires
// subcommands; each lives in its own file.
//
// Pipeline position: the outermost layer. It wires model, pipeline, certs,
// certcheck, xds/dump, xds/server (and its labels), xds/bootstrap and
// xds/xdstls together and holds no logic of its own beyond flags, signals and
// output. It must not import the IR, its builder or translate: a proxy group
// is named by compile.Node, and resources are printed by xds/dump.
package main
