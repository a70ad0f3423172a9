package translate

import (
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/trustgate/trustgate/xds/ir"
)

// buildSecret converts one IR secret to an SDS Secret: a certificate with
// its key, or a validation context (CA bundle and CRLs).
func buildSecret(s *ir.Secret) (*tlsv3.Secret, error) {
	out := &tlsv3.Secret{Name: s.Name}
	switch {
	case s.Cert != nil && s.Validation != nil:
		return nil, errors.New("both a certificate and a validation context are set")
	case s.Cert != nil:
		// The key goes as inline_string: it is PEM text, which Envoy reads
		// from either form (DataSource), and a redacted config dump then
		// shows "[redacted]" rather than that word in base64 (Envoy's
		// MessageUtil::redact writes it into the field's own type).
		out.Type = &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: inlineBytes(s.Cert.CertPEM),
			PrivateKey:       inlineString(string(s.Cert.KeyPEM)),
		}}
	case s.Validation != nil:
		out.Type = &tlsv3.Secret_ValidationContext{ValidationContext: validationSecret(s.Validation)}
	default:
		return nil, errors.New("neither a certificate nor a validation context is set")
	}
	if err := out.ValidateAll(); err != nil {
		return nil, fmt.Errorf("secret %q: %w", s.Name, err)
	}
	return out, nil
}

// validationSecret is the CA/CRL part sent over SDS. The static constraints
// (SANs, pins, depth) stay in the listener's default validation context.
func validationSecret(v *ir.Validation) *tlsv3.CertificateValidationContext {
	vc := &tlsv3.CertificateValidationContext{
		TrustedCa: inlineBytes(v.CAPEM),
		// Envoy requires a CRL for every CA in the chain once any CA has
		// one; only_verify_leaf_cert_crl limits the check to the leaf's
		// issuer.
		OnlyVerifyLeafCertCrl: v.OnlyVerifyLeafCRL,
	}
	if len(v.CRLPEM) > 0 {
		vc.Crl = inlineBytes(v.CRLPEM)
	}
	return vc
}

// inlineString is a DataSource holding s.
func inlineString(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}

// inlineBytes is a DataSource holding b.
func inlineBytes(b []byte) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b}}
}
