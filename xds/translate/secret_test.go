package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/trustgate/trustgate/xds/ir"
)

func TestBuildSecret(t *testing.T) {
	bytes := func(s string) *corev3.DataSource { return inlineBytes([]byte(s)) }
	tests := map[string]struct {
		in      *ir.Secret
		want    *tlsv3.Secret
		wantErr bool
	}{
		"certificate and key": {
			in: &ir.Secret{Name: "c", Cert: &ir.CertKey{CertPEM: []byte("CERT"), KeyPEM: []byte("KEY")}},
			want: &tlsv3.Secret{Name: "c", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
				CertificateChain: bytes("CERT"), PrivateKey: inlineString("KEY"),
			}}},
		},
		"CA only": {
			in: &ir.Secret{Name: "ca", Validation: &ir.Validation{CAPEM: []byte("CA")}},
			want: &tlsv3.Secret{Name: "ca", Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: bytes("CA"),
			}}},
		},
		"CA with leaf-only CRL": {
			in: &ir.Secret{Name: "ca", Validation: &ir.Validation{CAPEM: []byte("CA"), CRLPEM: []byte("CRL"), OnlyVerifyLeafCRL: true}},
			want: &tlsv3.Secret{Name: "ca", Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: bytes("CA"), Crl: bytes("CRL"), OnlyVerifyLeafCertCrl: true,
			}}},
		},
		"neither": {in: &ir.Secret{Name: "x"}, wantErr: true},
		"both":    {in: &ir.Secret{Name: "x", Cert: &ir.CertKey{}, Validation: &ir.Validation{}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildSecret(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}
