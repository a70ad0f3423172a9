package xdstls

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ErrNoCertificate is returned when a connection has no verified client
// certificate.
var ErrNoCertificate = errors.New("no verified client certificate")

// Identities returns what a certificate proves, in order of preference: its
// URI SANs (e.g. SPIFFE IDs), then its DNS SANs, then its subject common
// name. It is the order Envoy's RBAC `authenticated` principal matches in.
//
// A URI-shaped identity (one that begins with a scheme, such as
// "spiffe://example.org/gateway/edge-1") comes only from a URI SAN: a DNS
// SAN or CN spelled like a URI is no identity at all. A CA that signs a
// subject name or a DNS name for a proxy has not vouched for a SPIFFE ID, and
// the node id and the policy's patterns compare plain strings, which would
// otherwise not tell `CN=spiffe://…/edge-9` from a URI SAN.
func Identities(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	for _, d := range c.DNSNames {
		if !uriShaped(d) {
			out = append(out, d)
		}
	}
	if cn := c.Subject.CommonName; cn != "" && !uriShaped(cn) {
		out = append(out, cn)
	}
	return out
}

// uriShaped reports whether s begins with a URI scheme and its colon
// (RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"),
// as "spiffe://…" and "urn:…" do. Neither a DNS name nor a host-like CN does.
func uriShaped(s string) bool {
	scheme, _, ok := strings.Cut(s, ":")
	if !ok || scheme == "" {
		return false
	}
	for i, r := range scheme {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// PeerIdentities returns the identities of the verified client certificate
// of the gRPC connection behind ctx.
func PeerIdentities(ctx context.Context) ([]string, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, ErrNoCertificate
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil, ErrNoCertificate
	}
	// VerifiedChains is set only when the chain was verified against the
	// client CA; PeerCertificates alone would include unverified ones.
	chains := info.State.VerifiedChains
	if len(chains) == 0 || len(chains[0]) == 0 {
		return nil, ErrNoCertificate
	}
	return Identities(chains[0][0]), nil
}
