// Command trustgate turns Istio-style gateway YAML into Envoy configuration
// for mutual-TLS gateways and serves it over ADS. main only wires
// subcommands; each lives in its own file.
//
// Pipeline position: the outermost layer. It wires model, pipeline, certs,
// xds/server, xds/bootstrap and xds/xdstls together and holds no logic of
// its own beyond flags, signals and output.
package main
