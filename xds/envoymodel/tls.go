package envoymodel

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// checkDownstreamTLS refuses the TLS settings the model does not implement.
func checkDownstreamTLS(ctx *tlsv3.DownstreamTlsContext) error {
	common := ctx.GetCommonTlsContext()
	switch {
	case common.GetCustomHandshaker() != nil || common.GetCustomTlsCertificateSelector() != nil:
		return unsupported("custom handshakers or certificate selectors")
	case ctx.GetRequireSni().GetValue():
		return unsupported("require_sni")
	case len(common.GetTlsCertificates())+len(common.GetTlsCertificateSdsSecretConfigs()) == 0:
		return errors.New("downstream TLS without a certificate")
	}
	vc := common.GetValidationContext()
	if cv := common.GetCombinedValidationContext(); cv != nil {
		vc = cv.GetDefaultValidationContext()
	}
	if vc.GetTrustChainVerification() == tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED {
		return unsupported("trust_chain_verification ACCEPT_UNTRUSTED")
	}
	// Envoy still honours the deprecated match_subject_alt_names
	// (CertificateValidationContextConfigImpl::getSubjectAltNameMatchers,
	// source/common/ssl/certificate_validation_context_config_impl.cc), so
	// the model must see it to refuse it.
	if vc.GetCustomValidatorConfig() != nil || len(vc.GetMatchSubjectAltNames()) > 0 { //nolint:staticcheck // SA1019: read to refuse
		return unsupported("custom validators or the untyped match_subject_alt_names")
	}
	return nil
}

// validation is a chain's effective client-certificate validation: the
// static context with the SDS secret merged into it.
type validation struct {
	vc       *tlsv3.CertificateValidationContext // nil: none configured
	params   verifyParams
	hasCA    bool
	sanOrPin bool
}

// resolveValidation is how Envoy assembles the validation context
// (source/common/ssl/tls_certificate_config_impl / context_config_impl.cc,
// ContextConfigImpl: a combined_validation_context's dynamic part is merged
// into the default one with MergeFrom, so singular fields are replaced,
// lists concatenated and set booleans kept). A referenced secret that has not
// arrived keeps the context "not ready": Envoy then resets every connection
// on the chain.
func (m *Model) resolveValidation(common *tlsv3.CommonTlsContext) (*validation, error) {
	var vc *tlsv3.CertificateValidationContext
	switch t := common.GetValidationContextType().(type) {
	case nil:
		return &validation{}, nil
	case *tlsv3.CommonTlsContext_ValidationContext:
		vc = proto.Clone(t.ValidationContext).(*tlsv3.CertificateValidationContext)
	case *tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig:
		sds, err := m.validationSecret(t.ValidationContextSdsSecretConfig.GetName())
		if err != nil {
			return nil, err
		}
		vc = sds
	case *tlsv3.CommonTlsContext_CombinedValidationContext:
		vc = proto.Clone(t.CombinedValidationContext.GetDefaultValidationContext()).(*tlsv3.CertificateValidationContext)
		if vc == nil {
			vc = &tlsv3.CertificateValidationContext{}
		}
		sds, err := m.validationSecret(t.CombinedValidationContext.GetValidationContextSdsSecretConfig().GetName())
		if err != nil {
			return nil, err
		}
		proto.Merge(vc, sds)
	default:
		return nil, unsupported("validation context type %T", t)
	}
	return m.validationParams(vc)
}

// validationSecret is an SDS validation_context secret, copied.
func (m *Model) validationSecret(name string) (*tlsv3.CertificateValidationContext, error) {
	s, ok := m.secrets[name]
	if !ok {
		return nil, fmt.Errorf("SDS secret %q has not arrived: Envoy resets every connection on this chain (downstream_context_secrets_not_ready)", name)
	}
	vc := s.GetValidationContext()
	if vc == nil {
		return nil, fmt.Errorf("SDS secret %q is not a validation context", name)
	}
	return proto.Clone(vc).(*tlsv3.CertificateValidationContext), nil
}

// validationParams parses the CA bundle and CRLs of a merged validation
// context into X509_STORE settings.
func (m *Model) validationParams(vc *tlsv3.CertificateValidationContext) (*validation, error) {
	v := &validation{vc: vc, params: verifyParams{now: m.now, depth: 100, purpose: x509.ExtKeyUsageClientAuth, sigs: m.sigs}}
	ca, err := dataSource(vc.GetTrustedCa())
	if err != nil {
		return nil, fmt.Errorf("trusted_ca: %w", err)
	}
	if len(ca) > 0 {
		v.hasCA = true
		if v.params.anchors, err = parseCerts(ca); err != nil || len(v.params.anchors) == 0 {
			return nil, fmt.Errorf("trusted_ca: Envoy fails to load it (%v)", err)
		}
	}
	crl, err := dataSource(vc.GetCrl())
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	if len(crl) > 0 {
		if v.params.crls, err = parseCRLs(crl); err != nil {
			return nil, fmt.Errorf("crl: %w", err)
		}
		// X509_V_FLAG_CRL_CHECK, plus CRL_CHECK_ALL unless
		// only_verify_leaf_cert_crl (initializeSslContexts).
		v.params.crlCheck, v.params.crlAll = true, !vc.GetOnlyVerifyLeafCertCrl()
	}
	if d := vc.GetMaxVerifyDepth(); d != nil {
		// addClientValidationContext: max_verify_depth counts the trust
		// anchor but not the leaf; newer BoringSSL counts neither, so Envoy
		// passes max_verify_depth-1 (0 stays 0) as the number of
		// intermediates allowed.
		v.params.depth = max(int(d.GetValue())-1, 0)
	}
	v.params.allowExpired = vc.GetAllowExpiredCertificate()
	for _, s := range vc.GetMatchTypedSubjectAltNames() {
		if err := m.compileSANMatcher(s); err != nil {
			return nil, err
		}
	}
	v.sanOrPin = len(vc.GetMatchTypedSubjectAltNames())+len(vc.GetVerifyCertificateHash())+len(vc.GetVerifyCertificateSpki()) > 0
	return v, nil
}

// dataSource reads an inline DataSource.
func dataSource(d *corev3.DataSource) ([]byte, error) {
	switch s := d.GetSpecifier().(type) {
	case nil:
		return nil, nil
	case *corev3.DataSource_InlineBytes:
		return s.InlineBytes, nil
	case *corev3.DataSource_InlineString:
		return []byte(s.InlineString), nil
	}
	return nil, unsupported("a data source that is not inline")
}

// parseCerts reads every CERTIFICATE block of a PEM bundle.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out, nil
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// parseCRLs reads every X509 CRL block of a PEM bundle.
func parseCRLs(b []byte) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			if len(out) == 0 {
				return nil, errors.New("no CRL in the PEM (Envoy fails to load it)")
			}
			return out, nil
		}
		if blk.Type != "X509 CRL" {
			continue
		}
		l, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
}
