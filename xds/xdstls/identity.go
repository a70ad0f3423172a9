package xdstls

import (
	"context"
	"crypto/x509"
	"errors"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// ErrNoCertificate is returned when a connection has no verified client
// certificate.
var ErrNoCertificate = errors.New("no verified client certificate")

// Identities returns what a certificate proves, in order of preference: its
// URI SANs (e.g. SPIFFE IDs), then its DNS SANs, then its subject common
// name. It is the order Envoy's RBAC `authenticated` principal matches in.
func Identities(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	out = append(out, c.DNSNames...)
	if c.Subject.CommonName != "" {
		out = append(out, c.Subject.CommonName)
	}
	return out
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
