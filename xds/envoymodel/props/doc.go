// Package props checks security properties of a trustgate configuration by
// running generated connections and requests through the model of Envoy
// (xds/envoymodel) and comparing every outcome with what the configuration
// means, as an independent judge:
//
//   - P1 mutual: no request for a MUTUAL host is routed, on that host's
//     port, without a certificate the host's own validation (CA, CRL,
//     depth, SANs, pins) accepts;
//   - P2 identity: no client-sent value of an identity header (configured,
//     ingress-nginx's, XFCC, or a VirtualService header filled from the
//     peer certificate) reaches a backend;
//   - P3 authz: every authorization verdict equals the policies evaluated
//     directly on the certificate and request, from their documented
//     meaning (Istio's AuthorizationPolicy reference, trustgate's
//     ClientCertificatePolicy), not from the RBAC that trustgate emitted;
//   - P4 misdirected: a host is answered only by its own server's chain;
//     on another server's chain of the same port it gets 421;
//   - P5 rejection: an OPTIONAL_MUTUAL host's request without a certificate
//     gets the configured rejection, and misdirected requests get 421, not
//     an RBAC 403.
//
// What the configuration means is read from the loaded Istio and trustgate
// objects (package model) and the certificates themselves (crypto/x509),
// never from the IR or the translator's output: the judge must not share the
// code it judges. Besides model and envoymodel it imports only certs, the
// development PKI, to parse subjects and make the client certificates that
// check presents. Certificates are judged by Go's crypto/x509 chain
// verification plus CRL, depth, SAN and pin checks written from the
// ClientCertificatePolicy documentation, not by envoymodel's verifier.
//
// Check sends the clients it is given to every probe the configuration
// suggests. Run adds Options: bounds that keep the probes per host constant
// on large configurations, and Synthesize, which makes the clients itself
// for a configuration whose CA keys are not at hand (`trustgate check`):
// twins of every client CA and CRL in the resources, same subject,
// validity, serial, extensions and revoked serials, each with a key of its
// own, handed to both the model and the judge (twin.go), and certificates
// issued from them for each rule that reads the certificate (synth.go,
// wanted.go).
//
// It sits after the pipeline: it imports model, envoymodel and certs (for
// reading distinguished names), and nothing in the pipeline imports it.
package props
