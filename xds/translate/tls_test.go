package translate

import (
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// sds is an SdsSecretConfig over the shared ADS config source.
func sds(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: ads()}
}

// combined is a combined validation context.
func combined(static *tlsv3.CertificateValidationContext, ca string) *tlsv3.CommonTlsContext_CombinedValidationContext {
	return &tlsv3.CommonTlsContext_CombinedValidationContext{CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
		DefaultValidationContext: static, ValidationContextSdsSecretConfig: sds(ca),
	}}
}

// noTickets disables stateless (ticket) session resumption.
func noTickets() *tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption {
	return &tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption{DisableStatelessSessionResumption: true}
}

// san is a typed SAN matcher.
func san(t tlsv3.SubjectAltNameMatcher_SanType, m *matcherv3.StringMatcher) *tlsv3.SubjectAltNameMatcher {
	return &tlsv3.SubjectAltNameMatcher{SanType: t, Matcher: m}
}

func TestBuildDownstreamTLS(t *testing.T) {
	tests := map[string]struct {
		in      *ir.DownstreamTLS
		want    *tlsv3.DownstreamTlsContext
		wantErr bool
	}{
		"simple": {
			in: &ir.DownstreamTLS{Mode: ir.TLSSimple, CertSecrets: []string{"rsa", "ecdsa"}},
			want: &tlsv3.DownstreamTlsContext{
				CommonTlsContext:         &tlsv3.CommonTlsContext{TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("rsa"), sds("ecdsa")}},
				RequireClientCertificate: wrapperspb.Bool(false),
			},
		},
		"mutual with every constraint": {
			in: &ir.DownstreamTLS{
				Mode: ir.TLSMutual, CertSecrets: []string{"c"}, CASecret: "ca",
				MinVersion: "TLSv1_2", MaxVersion: "TLSv1_3", CipherSuites: []string{"ECDHE-RSA-AES128-GCM-SHA256"},
				ECDHCurves: []string{"X25519"}, ALPN: []string{"h2", "http/1.1"},
				SubjectAltNames: []ir.SANMatch{{Type: ir.SANURI, Match: ir.StringMatch{Exact: "spiffe://a"}}, {Type: ir.SANEmail, Match: ir.StringMatch{Suffix: "@a.com"}}},
				SPKI:            []string{"spki"}, CertHashes: []string{"hash"}, VerifyDepth: 3,
			},
			want: &tlsv3.DownstreamTlsContext{
				CommonTlsContext: &tlsv3.CommonTlsContext{
					TlsParams: &tlsv3.TlsParameters{
						TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
						CipherSuites: []string{"ECDHE-RSA-AES128-GCM-SHA256"}, EcdhCurves: []string{"X25519"},
					},
					AlpnProtocols:                  []string{"h2", "http/1.1"},
					TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("c")},
					ValidationContextType: combined(&tlsv3.CertificateValidationContext{
						MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{
							san(tlsv3.SubjectAltNameMatcher_URI, exact("spiffe://a")),
							san(tlsv3.SubjectAltNameMatcher_EMAIL, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: "@a.com"}}),
						},
						VerifyCertificateSpki: []string{"spki"}, VerifyCertificateHash: []string{"hash"},
						MaxVerifyDepth: wrapperspb.UInt32(3),
					}, "ca"),
				},
				RequireClientCertificate:         wrapperspb.Bool(true),
				SessionTicketKeysType:            noTickets(),
				DisableStatefulSessionResumption: true,
			},
		},
		"optional mutual does not require a certificate": {
			in: &ir.DownstreamTLS{Mode: ir.TLSOptionalMutual, CertSecrets: []string{"c"}, CASecret: "ca"},
			want: &tlsv3.DownstreamTlsContext{
				CommonTlsContext: &tlsv3.CommonTlsContext{
					TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("c")},
					ValidationContextType:          combined(&tlsv3.CertificateValidationContext{}, "ca"),
				},
				RequireClientCertificate:         wrapperspb.Bool(false),
				SessionTicketKeysType:            noTickets(),
				DisableStatefulSessionResumption: true,
			},
		},
		"mutual without a CA":    {in: &ir.DownstreamTLS{Mode: ir.TLSMutual, CertSecrets: []string{"c"}}, wantErr: true},
		"no certificate":         {in: &ir.DownstreamTLS{Mode: ir.TLSSimple}, wantErr: true},
		"unknown mode":           {in: &ir.DownstreamTLS{Mode: "ISTIO_MUTUAL", CertSecrets: []string{"c"}}, wantErr: true},
		"unknown version":        {in: &ir.DownstreamTLS{Mode: ir.TLSSimple, CertSecrets: []string{"c"}, MinVersion: "1.2"}, wantErr: true},
		"unspecified SAN type":   {in: &ir.DownstreamTLS{Mode: ir.TLSMutual, CertSecrets: []string{"c"}, CASecret: "ca", SubjectAltNames: []ir.SANMatch{{Match: ir.StringMatch{Exact: "a"}}}}, wantErr: true},
		"presence SAN not valid": {in: &ir.DownstreamTLS{Mode: ir.TLSMutual, CertSecrets: []string{"c"}, CASecret: "ca", SubjectAltNames: []ir.SANMatch{{Type: ir.SANDNS, Match: ir.StringMatch{Present: true}}}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildDownstreamTLS(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}

func TestBuildUpstreamTLS(t *testing.T) {
	tests := map[string]struct {
		in   *ir.UpstreamTLS
		want *tlsv3.UpstreamTlsContext
	}{
		"CA without SANs verifies the SNI as a DNS SAN": {
			in: &ir.UpstreamTLS{SNI: "b.internal", CASecret: "ca"},
			want: &tlsv3.UpstreamTlsContext{Sni: "b.internal", CommonTlsContext: &tlsv3.CommonTlsContext{
				ValidationContextType: combined(&tlsv3.CertificateValidationContext{
					MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{san(tlsv3.SubjectAltNameMatcher_DNS, exact("b.internal"))},
				}, "ca"),
			}},
		},
		"explicit SANs replace the SNI check": {
			in: &ir.UpstreamTLS{SNI: "b.internal", CASecret: "ca", SubjectAltNames: []ir.SANMatch{{Type: ir.SANURI, Match: ir.StringMatch{Exact: "spiffe://b"}}}},
			want: &tlsv3.UpstreamTlsContext{Sni: "b.internal", CommonTlsContext: &tlsv3.CommonTlsContext{
				ValidationContextType: combined(&tlsv3.CertificateValidationContext{
					MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{san(tlsv3.SubjectAltNameMatcher_URI, exact("spiffe://b"))},
				}, "ca"),
			}},
		},
		"CA without SNI verifies the chain only": {
			in: &ir.UpstreamTLS{CASecret: "ca"},
			want: &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
				ValidationContextType: combined(&tlsv3.CertificateValidationContext{}, "ca"),
			}},
		},
		"mutual with versions and ALPN": {
			in: &ir.UpstreamTLS{SNI: "b", CASecret: "ca", CertSecret: "client", MinVersion: "TLSv1_3", MaxVersion: "TLSv1_3", ALPN: []string{"h2"}},
			want: &tlsv3.UpstreamTlsContext{Sni: "b", CommonTlsContext: &tlsv3.CommonTlsContext{
				TlsParams:                      &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3},
				AlpnProtocols:                  []string{"h2"},
				TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("client")},
				ValidationContextType: combined(&tlsv3.CertificateValidationContext{
					MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{san(tlsv3.SubjectAltNameMatcher_DNS, exact("b"))},
				}, "ca"),
			}},
		},
		"insecure skip verify has no validation context": {
			in:   &ir.UpstreamTLS{SNI: "b", CASecret: "ca", InsecureSkipVerify: true},
			want: &tlsv3.UpstreamTlsContext{Sni: "b", CommonTlsContext: &tlsv3.CommonTlsContext{}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildUpstreamTLS(tc.in)
			wantErr(t, err, false)
			diffProto(t, tc.want, got)
		})
	}
}

// TestSDSConfigIdentical checks that every SDS reference carries the same
// ConfigSource bytes (Envoy keys SDS providers by it).
func TestSDSConfigIdentical(t *testing.T) {
	a, err := marshalDeterministic(sdsSecret("a").GetSdsConfig())
	wantErr(t, err, false)
	b, err := marshalDeterministic(adsConfigSource())
	wantErr(t, err, false)
	if string(a) != string(b) {
		t.Fatal("sds_config bytes differ between references")
	}
}

// TestClientValidationDisablesResumption checks that every chain that
// validates client certificates turns off both kinds of TLS session
// resumption: Envoy reports a resumed session as not validated, so
// mtls_authenticated rules would deny (ALLOW) or skip (DENY) on it.
func TestClientValidationDisablesResumption(t *testing.T) {
	tests := map[string]struct {
		mode ir.TLSMode
		ca   string
		want bool // resumption disabled
	}{
		"simple keeps resumption":     {mode: ir.TLSSimple},
		"mutual disables it":          {mode: ir.TLSMutual, ca: "ca", want: true},
		"optional mutual disables it": {mode: ir.TLSOptionalMutual, ca: "ca", want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildDownstreamTLS(&ir.DownstreamTLS{Mode: tc.mode, CertSecrets: []string{"c"}, CASecret: tc.ca})
			wantErr(t, err, false)
			if s := got.GetDisableStatelessSessionResumption(); s != tc.want {
				t.Errorf("disable_stateless_session_resumption = %v, want %v", s, tc.want)
			}
			if s := got.GetDisableStatefulSessionResumption(); s != tc.want {
				t.Errorf("disable_stateful_session_resumption = %v, want %v", s, tc.want)
			}
			if got.GetSessionTicketKeys() != nil || got.GetSessionTicketKeysSdsSecretConfig() != nil {
				t.Error("session ticket keys set")
			}
		})
	}
}

// TestVersionRangeAgainstEnvoyDefaults checks that a context whose
// effective minimum version (Envoy's default filled in) is above its
// effective maximum is refused: Envoy accepts it and fails every handshake.
// Listener defaults are TLS 1.2 to 1.3, upstream defaults TLS 1.2 to 1.2.
func TestVersionRangeAgainstEnvoyDefaults(t *testing.T) {
	down := func(lo, hi string) error {
		_, err := buildDownstreamTLS(&ir.DownstreamTLS{Mode: ir.TLSSimple, CertSecrets: []string{"c"}, MinVersion: lo, MaxVersion: hi})
		return err
	}
	up := func(lo, hi string) error {
		_, err := buildUpstreamTLS(&ir.UpstreamTLS{SNI: "b", MinVersion: lo, MaxVersion: hi})
		return err
	}
	tests := map[string]struct {
		build   func(lo, hi string) error
		lo, hi  string
		wantErr bool
	}{
		"listener max below default min": {build: down, hi: "TLSv1_1", wantErr: true},
		"listener min 1.3 alone":         {build: down, lo: "TLSv1_3"},
		"listener explicit 1.0 to 1.1":   {build: down, lo: "TLSv1_0", hi: "TLSv1_1"},
		"listener min above max":         {build: down, lo: "TLSv1_3", hi: "TLSv1_2", wantErr: true},
		"upstream min 1.3 alone":         {build: up, lo: "TLSv1_3", wantErr: true},
		"upstream 1.3 to 1.3":            {build: up, lo: "TLSv1_3", hi: "TLSv1_3"},
		"upstream max below default min": {build: up, hi: "TLSv1_0", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			wantErr(t, tc.build(tc.lo, tc.hi), tc.wantErr)
		})
	}
}
