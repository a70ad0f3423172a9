// Package xdstls secures trustgate's ADS endpoint: mutual TLS whose
// certificate and client CA reload when their files change, the identity a
// proxy's client certificate proves, and the policy binding identities to the
// node labels they may claim (which choose the proxy group, and so the
// private keys the proxy is sent over SDS).
//
// Identity rule. The identities of a verified client certificate are its URI
// SANs (e.g. SPIFFE IDs), then its DNS SANs, then its subject common name.
// An identity that begins with a URI scheme ("spiffe://…", "urn:…") comes
// only from a URI SAN: a DNS SAN or CN spelled like a URI is ignored, so a
// certificate with CN=spiffe://example.org/gateway/edge-9 and no URI SAN
// proves no SPIFFE ID and matches no "spiffe://…" pattern.
// A stream is accepted only when the node id of its first request equals one
// of them, so that one proxy cannot speak for another. With a policy file
// (`serve --xds-authz`), the node's labels must also equal the labels of an
// entry whose identity pattern (exact, or a prefix ending in "*") matches the
// node id; without one, any authenticated proxy may claim any labels, and so
// receive any group's keys.
//
// Files reload on change: each handshake (certificate, client CA) and each
// authorization (policy) compares the files' size and modification time with
// the last attempt, and re-reads them when they differ. A new file that does
// not load keeps the previous one and logs an error, once per change. Only
// new connections and streams see a change: an established connection is
// not verified again, and an accepted stream keeps its authorization (as
// Envoy keeps connections across SDS updates); a proxy whose certificate or
// labels are revoked is cut off when it reconnects, or when trustgate
// restarts.
//
// Pipeline position: beside the pipeline, on the server's side of ADS;
// `trustgate serve` wires it into the server (the server sees only its
// Authorizer interface and gRPC credentials). It must not import the model,
// the IR, the translator or the server.
package xdstls
