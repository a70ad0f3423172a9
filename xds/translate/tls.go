package translate

import (
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// adsConfigSource is the ConfigSource of every RDS, EDS and SDS reference.
// It must stay byte-identical across references: Envoy keys SDS providers by
// the whole ConfigSource, and a second, different one for the same secret
// creates a provider that may never receive it (envoyproxy/envoy#47309).
func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
}

// sdsSecret references a secret delivered over ADS.
func sdsSecret(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfigSource()}
}

// buildDownstreamTLS is a chain's DownstreamTlsContext: certificates and the
// CA/CRL over SDS (rotation never touches the listener, so no drain), client
// certificate constraints static in the listener.
func buildDownstreamTLS(t *ir.DownstreamTLS) (*tlsv3.DownstreamTlsContext, error) {
	if len(t.CertSecrets) == 0 {
		return nil, errors.New("downstream TLS without a certificate")
	}
	params, err := tlsParams(listenerVersions, t.MinVersion, t.MaxVersion, t.CipherSuites, t.ECDHCurves)
	if err != nil {
		return nil, err
	}
	common := &tlsv3.CommonTlsContext{TlsParams: params, AlpnProtocols: t.ALPN}
	for _, name := range t.CertSecrets {
		common.TlsCertificateSdsSecretConfigs = append(common.TlsCertificateSdsSecretConfigs, sdsSecret(name))
	}
	out := &tlsv3.DownstreamTlsContext{
		CommonTlsContext: common,
		// Only MUTUAL refuses the handshake without a certificate;
		// OPTIONAL_MUTUAL validates one if presented. Note that Envoy also
		// demands a certificate whenever SAN matchers or pins are set.
		RequireClientCertificate: wrapperspb.Bool(t.Mode == ir.TLSMutual),
	}
	switch t.Mode {
	case ir.TLSSimple:
	case ir.TLSMutual, ir.TLSOptionalMutual:
		if t.CASecret == "" {
			return nil, fmt.Errorf("%s TLS without a CA secret", t.Mode)
		}
		vc, err := clientValidation(t)
		if err != nil {
			return nil, err
		}
		common.ValidationContextType = combinedValidation(vc, t.CASecret)
		disableResumption(out)
	default:
		return nil, fmt.Errorf("unknown TLS mode %q", t.Mode)
	}
	return out, nil
}

// disableResumption turns off both TLS session resumption mechanisms on a
// chain that validates client certificates (as Envoy Gateway does on every
// such chain, internal/xds/translator/listener.go
// setDownstreamTLSSessionSettings). A resumed session skips certificate
// verification, so Envoy reports its peer certificate as not validated:
// SslHandshakerImpl::peerCertificateValidated (source/common/tls/
// ssl_handshaker.cc) reads a status that only the verify callback sets, and
// that callback does not run on resumption. The mtls_authenticated principal
// (MtlsAuthenticatedMatcher::matches) then never matches, so an ALLOW on SANs
// refuses resumed clients at random and a DENY on SANs is bypassed by
// resuming (envoyproxy/envoy#42668, #21235). A resumed session would also
// skip the CRL check of a certificate revoked since its first handshake.
// ServerContextImpl (source/common/tls/server_context_impl.cc) maps
// disable_stateless_session_resumption to SSL_OP_NO_TICKET (no ticket is
// issued, whatever the ticket keys) and disable_stateful_session_resumption
// to SSL_SESS_CACHE_OFF (no session-ID cache); either alone leaves the other
// way to resume open.
func disableResumption(ctx *tlsv3.DownstreamTlsContext) {
	ctx.SessionTicketKeysType = &tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption{DisableStatelessSessionResumption: true}
	ctx.DisableStatefulSessionResumption = true
}

// clientValidation is the static part of a client-certificate validation
// context.
func clientValidation(t *ir.DownstreamTLS) (*tlsv3.CertificateValidationContext, error) {
	sans, err := sanMatchers(t.SubjectAltNames)
	if err != nil {
		return nil, err
	}
	vc := &tlsv3.CertificateValidationContext{
		MatchTypedSubjectAltNames: sans,
		VerifyCertificateSpki:     t.SPKI,
		VerifyCertificateHash:     t.CertHashes,
	}
	if t.VerifyDepth > 0 {
		vc.MaxVerifyDepth = wrapperspb.UInt32(t.VerifyDepth)
	}
	return vc, nil
}

// combinedValidation pairs a static validation context with a CA secret. The
// SDS part is merged into the static one (MergeFrom), so SAN matchers and
// pins survive CA rotation unchanged.
func combinedValidation(static *tlsv3.CertificateValidationContext, caSecret string) *tlsv3.CommonTlsContext_CombinedValidationContext {
	return &tlsv3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext:         static,
			ValidationContextSdsSecretConfig: sdsSecret(caSecret),
		},
	}
}

// buildUpstreamTLS is a cluster's UpstreamTlsContext. Envoy verifies the
// backend only when a trusted CA is configured; sni alone checks nothing.
func buildUpstreamTLS(t *ir.UpstreamTLS) (*tlsv3.UpstreamTlsContext, error) {
	params, err := tlsParams(upstreamVersions, t.MinVersion, t.MaxVersion, nil, nil)
	if err != nil {
		return nil, err
	}
	common := &tlsv3.CommonTlsContext{TlsParams: params, AlpnProtocols: t.ALPN}
	if t.CertSecret != "" {
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{sdsSecret(t.CertSecret)}
	}
	if t.CASecret != "" && !t.InsecureSkipVerify {
		sans := t.SubjectAltNames
		if len(sans) == 0 && t.SNI != "" {
			// Without an explicit SAN list, check the name we asked for:
			// a CA-signed certificate for another host must not pass.
			sans = []ir.SANMatch{{Type: ir.SANDNS, Match: ir.StringMatch{Exact: t.SNI}}}
		}
		matchers, err := sanMatchers(sans)
		if err != nil {
			return nil, err
		}
		static := &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: matchers}
		common.ValidationContextType = combinedValidation(static, t.CASecret)
	}
	return &tlsv3.UpstreamTlsContext{CommonTlsContext: common, Sni: t.SNI}, nil
}

// sanMatchers converts SAN matches to typed matchers (the untyped
// match_subject_alt_names is deprecated).
func sanMatchers(sans []ir.SANMatch) ([]*tlsv3.SubjectAltNameMatcher, error) {
	var out []*tlsv3.SubjectAltNameMatcher
	for i, s := range sans {
		m, err := sanMatcher(s)
		if err != nil {
			return nil, fmt.Errorf("subjectAltNames[%d]: %w", i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// sanMatcher converts one SAN match.
func sanMatcher(s ir.SANMatch) (*tlsv3.SubjectAltNameMatcher, error) {
	t, ok := tlsv3.SubjectAltNameMatcher_SanType_value[string(s.Type)]
	if !ok || t == int32(tlsv3.SubjectAltNameMatcher_SAN_TYPE_UNSPECIFIED) {
		return nil, fmt.Errorf("unknown SAN type %q", s.Type)
	}
	m, err := stringMatcher(s.Match)
	if err != nil {
		return nil, err
	}
	return &tlsv3.SubjectAltNameMatcher{SanType: tlsv3.SubjectAltNameMatcher_SanType(t), Matcher: m}, nil
}

// versionDefaults are the protocol versions Envoy uses for TLS_AUTO.
type versionDefaults struct {
	min, max tlsv3.TlsParameters_TlsProtocol
}

// Envoy's defaults: ServerContextConfigImpl::DEFAULT_MIN_VERSION and
// DEFAULT_MAX_VERSION (source/common/tls/server_context_config_impl.cc) for
// listeners, ClientContextConfigImpl's (context_config_impl.cc) for
// upstream connections.
var (
	listenerVersions = versionDefaults{tlsv3.TlsParameters_TLSv1_2, tlsv3.TlsParameters_TLSv1_3}
	upstreamVersions = versionDefaults{tlsv3.TlsParameters_TLSv1_2, tlsv3.TlsParameters_TLSv1_2}
)

// tlsParams sets protocol versions, ciphers and curves; nil when all are
// Envoy's defaults. An effective minimum above the effective maximum is an
// error: ContextImpl hands both to SSL_CTX_set_min/max_proto_version
// unchecked, so Envoy would accept the context and fail every handshake.
func tlsParams(def versionDefaults, minV, maxV string, ciphers, curves []string) (*tlsv3.TlsParameters, error) {
	if minV == "" && maxV == "" && len(ciphers) == 0 && len(curves) == 0 {
		return nil, nil
	}
	lo, err := tlsVersion(minV)
	if err != nil {
		return nil, err
	}
	hi, err := tlsVersion(maxV)
	if err != nil {
		return nil, err
	}
	if orDefault(lo, def.min) > orDefault(hi, def.max) {
		return nil, fmt.Errorf("TLS versions %s to %s (TLS_AUTO is %s to %s): no handshake can succeed", lo, hi, def.min, def.max)
	}
	return &tlsv3.TlsParameters{
		TlsMinimumProtocolVersion: lo,
		TlsMaximumProtocolVersion: hi,
		CipherSuites:              ciphers,
		EcdhCurves:                curves,
	}, nil
}

// tlsVersion parses an Envoy TLS version enum name ("" is TLS_AUTO).
func tlsVersion(v string) (tlsv3.TlsParameters_TlsProtocol, error) {
	if v == "" {
		return tlsv3.TlsParameters_TLS_AUTO, nil
	}
	n, ok := tlsv3.TlsParameters_TlsProtocol_value[v]
	if !ok {
		return 0, fmt.Errorf("unknown TLS version %q (want e.g. TLSv1_2)", v)
	}
	return tlsv3.TlsParameters_TlsProtocol(n), nil
}

// orDefault is v, or def for TLS_AUTO. The enum's values are in version
// order.
func orDefault(v, def tlsv3.TlsParameters_TlsProtocol) tlsv3.TlsParameters_TlsProtocol {
	if v == tlsv3.TlsParameters_TLS_AUTO {
		return def
	}
	return v
}

// tlsTransportSocket wraps a TLS context in a transport socket.
func tlsTransportSocket(ctx validatable) (*corev3.TransportSocket, error) {
	a, err := toAny(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{
		Name:       wellknown.TransportSocketTLS,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a},
	}, nil
}
