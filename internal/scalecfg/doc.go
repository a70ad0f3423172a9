// Package scalecfg generates the scale workload of docs/performance.md: N
// mTLS hosts on port 443, each its own Gateway server (so its own filter
// chain and route configuration), Gateways of Options.PerGateway servers, a
// VirtualService per host with one or two routes to the host's own backends,
// all sharing one wildcard certificate and one client CA. It writes the same
// workload as Kubernetes Gateway API input (Gateways of the same listeners,
// an HTTPRoute and a Service per host, one ClientTrafficPolicy with
// clientValidation) for Envoy Gateway's `egctl x translate`, so the two can
// be timed side by side.
//
// It is used by cmd/gencfg, cmd/xdsload and the benchmarks; nothing in the
// pipeline imports it.
package scalecfg
