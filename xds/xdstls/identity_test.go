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
		"CN only":         {cert: &x509.Certificate{Subject: pkix.Name{CommonName: "gw-a"}}, want: []string{"gw-a"}},
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
