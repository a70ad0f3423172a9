package xdstls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestIdentities(t *testing.T) {
	tests := map[string]struct {
		cert *x509.Certificate
		want []string
	}{
		"URI SANs, then DNS SANs, then the CN": {
			cert: &x509.Certificate{
				URIs:     []*url.URL{mustURL(t, "spiffe://example.org/gw/a"), mustURL(t, "spiffe://example.org/gw/b")},
				DNSNames: []string{"gw-a.example.org"},
				Subject:  pkix.Name{CommonName: "gw-a"},
			},
			want: []string{"spiffe://example.org/gw/a", "spiffe://example.org/gw/b", "gw-a.example.org", "gw-a"},
		},
		"CN only": {cert: &x509.Certificate{Subject: pkix.Name{CommonName: "gw-a"}}, want: []string{"gw-a"}},
		// Only a URI SAN proves a URI: a CN or DNS SAN with a scheme is no identity.
		"CN with a scheme": {
			cert: &x509.Certificate{Subject: pkix.Name{CommonName: "spiffe://example.org/gateway/edge-9"}},
			want: nil,
		},
		"DNS SAN with a scheme": {
			cert: &x509.Certificate{DNSNames: []string{"spiffe://example.org/gw/a", "gw-a.example.org"}, Subject: pkix.Name{CommonName: "urn:gw-a"}},
			want: []string{"gw-a.example.org"},
		},
		"URI SAN kept, CN with its spelling dropped": {
			cert: &x509.Certificate{URIs: []*url.URL{mustURL(t, "spiffe://example.org/gw/a")}, Subject: pkix.Name{CommonName: "spiffe://example.org/gw/b"}},
			want: []string{"spiffe://example.org/gw/a"},
		},
		"nothing to name": {cert: &x509.Certificate{}, want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Identities(tc.cert)); diff != "" {
				t.Errorf("Identities (-want +got):\n%s", diff)
			}
		})
	}
}

// peerContext is a stream context as gRPC makes it for a TLS connection.
func peerContext(state tls.ConnectionState) context.Context {
	return peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: state}})
}

func TestPeerIdentities(t *testing.T) {
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: "gw-a"}}
	tests := map[string]struct {
		ctx     context.Context
		want    []string
		wantErr error
	}{
		"verified chain": {ctx: peerContext(tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}), want: []string{"gw-a"}},
		// A certificate that was presented but not verified proves nothing.
		"presented, not verified": {ctx: peerContext(tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}), wantErr: ErrNoCertificate},
		"no TLS":                  {ctx: peer.NewContext(context.Background(), &peer.Peer{}), wantErr: ErrNoCertificate},
		"no peer":                 {ctx: context.Background(), wantErr: ErrNoCertificate},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := PeerIdentities(tc.ctx)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PeerIdentities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestURIShaped(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"SPIFFE ID":                  {in: "spiffe://example.org/gw/a", want: true},
		"URN":                        {in: "urn:uuid:6e8bc430", want: true},
		"scheme with + - . 0-9":      {in: "x-a+b.9://h", want: true},
		"upper-case scheme":          {in: "SPIFFE://example.org", want: true},
		"DNS name":                   {in: "gw-a.example.org", want: false},
		"plain CN":                   {in: "edge-1", want: false},
		"empty scheme":               {in: "://x", want: false},
		"scheme starts with a digit": {in: "9p://x", want: false},
		"space in scheme":            {in: "edge 1: gateway", want: false},
		"empty":                      {in: "", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := uriShaped(tc.in); got != tc.want {
				t.Errorf("uriShaped(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
