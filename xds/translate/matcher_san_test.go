package translate

import (
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/trustgate/trustgate/xds/ir"
)

// A noWildcard DNS SAN reaches Envoy as safe_regex, both in the handshake's
// validation context and in RBAC's mtls_authenticated principal. Both build
// their matcher with createStringSanMatcher, whose StringSanMatcher::match
// (source/common/tls/cert_validator/san_matcher.cc) applies DNS wildcard
// rules (Utility::dnsNameMatch) to an exact matcher only; safe_regex is
// matched against the SAN as it is. An exact DNS SAN stays exact (Envoy's,
// and Istio's, wildcard-aware meaning).
func TestDNSSANMatcherForms(t *testing.T) {
	const literal = `[aA][dD][mM][iI][nN]\.[eE][xX][aA][mM][pP][lL][eE]\.[cC][oO][mM]`
	tests := map[string]struct {
		in   ir.StringMatch
		want *matcherv3.StringMatcher
	}{
		"noWildcard: safe_regex, no ignore_case": {
			in:   ir.StringMatch{Regex: literal},
			want: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: literal}}},
		},
		"exact: Envoy's DNS wildcard rules apply": {
			in:   ir.StringMatch{Exact: "admin.example.com"},
			want: exactMatcher("admin.example.com"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			san, err := sanMatcher(ir.SANMatch{Type: ir.SANDNS, Match: tc.in})
			if err != nil {
				t.Fatal(err)
			}
			diffProto(t, &tlsv3.SubjectAltNameMatcher{SanType: tlsv3.SubjectAltNameMatcher_DNS, Matcher: tc.want}, san)
			p, err := sanPrincipal(ir.SANDNS, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			diffProto(t, iSAN(t, tlsv3.SubjectAltNameMatcher_DNS, tc.want), p)
		})
	}
}
