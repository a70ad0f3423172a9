// Package envoymodel is an executable model of what Envoy does with a
// configuration: given Envoy resources (listeners, route configurations,
// clusters, secrets), a connection (port, SNI, client certificate chain,
// resumed or not, source address) and a request (method, authority, path,
// headers), it says which listener and filter chain take the connection,
// whether the TLS handshake passes, which RBAC policies decide, which route
// answers and what reaches the backend, step by step.
//
// It covers the subset of Envoy that trustgate emits and refuses (New
// returns an error) any construct it does not model, so a trace never
// silently describes a different proxy. Every rule is written from Envoy's
// C++ and cites the file and function it follows:
//
//   - listeners by port and address; tls_inspector (SNI, ALPN, transport
//     "tls") or its absence ("raw_buffer", no SNI); filter chains in
//     FilterChainManagerImpl's order, default chain, duplicate matches;
//   - downstream TLS: protocol range, certificate secrets present, the
//     validation context merged from SDS, verify mode (request, require),
//     chain building as BoringSSL does it (trusted first, partial chains),
//     CA flags and purposes, max_verify_depth, CRLs (leaf or whole chain),
//     SAN matchers with DNS wildcard semantics, SPKI and hash pins, expiry,
//     resumption (validated false, or impossible when both switches are off);
//   - the HTTP connection manager: headers with underscores, x-forwarded-*,
//     Envoy's internal headers, XFCC in every mode, path normalization
//     (fragments, escaped slashes, dot segments, merged slashes), host
//     normalization;
//   - HTTP filters in order: set_filter_state, RBAC (every permission and
//     principal kind trustgate emits, mtls_authenticated, filter state,
//     shadow rules, RBACPerRoute and FilterConfig per route), CORS
//     preflights, the router;
//   - virtual hosts (exact, suffix and prefix wildcards, "*", ports),
//     routes (prefix, path, safe_regex, path-separated prefix, headers,
//     query parameters, tls_context, case), require_tls, direct responses,
//     redirects, header mutations in Envoy's order with formatters, host and
//     path rewrites, weighted clusters (every share reported), upstream TLS;
//   - network filters: set_filter_state, network RBAC, tcp_proxy.
//
// Where a behaviour could not be confirmed in the source the comment says
// so (the exact character set of URL-encoded PEM, Chromium's path escaping
// table for rare bytes, SNI case). The client is assumed to offer TLS 1.2
// and 1.3; x-request-id and other headers the router adds are not listed.
// Test vectors ported from Envoy's own unit tests are in testdata/envoy.
//
// A Model explains any number of connections; what cannot change for it is
// computed once (memo.go): validation contexts, signature checks, the
// filter chain a socket lands on, what Envoy reports of a certificate.
//
// Where it sits: beside the pipeline, never inside it. It reads only Envoy
// protos (go-control-plane types), the standard library and x509 data. It
// must not import trustgate's model, ir, translate or pipeline packages: it
// is the independent judge of what translate produces (a test checks the
// import graph).
package envoymodel
