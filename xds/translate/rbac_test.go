package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	mtlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/rbac/principals/mtls_authenticated/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// Expected-tree helpers, independent of the code under test.

func pAnd(ps ...*rbacv3.Permission) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_AndRules{AndRules: &rbacv3.Permission_Set{Rules: ps}}}
}

func pOr(ps ...*rbacv3.Permission) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_OrRules{OrRules: &rbacv3.Permission_Set{Rules: ps}}}
}

func pNot(p *rbacv3.Permission) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_NotRule{NotRule: p}}
}

func pAny() *rbacv3.Permission { return &rbacv3.Permission{Rule: &rbacv3.Permission_Any{Any: true}} }

func pPort(p uint32) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_DestinationPort{DestinationPort: p}}
}

func pHeader(name string, m *matcherv3.StringMatcher) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_Header{Header: &routev3.HeaderMatcher{
		Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: m},
	}}}
}

func pPath(m *matcherv3.StringMatcher) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_UrlPath{UrlPath: &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{Path: m}}}}
}

func iAnd(ps ...*rbacv3.Principal) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_AndIds{AndIds: &rbacv3.Principal_Set{Ids: ps}}}
}

func iOr(ps ...*rbacv3.Principal) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_OrIds{OrIds: &rbacv3.Principal_Set{Ids: ps}}}
}

func iNot(p *rbacv3.Principal) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_NotId{NotId: p}}
}

func iAny() *rbacv3.Principal { return &rbacv3.Principal{Identifier: &rbacv3.Principal_Any{Any: true}} }

func iDirect(ip string, bits uint32) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_DirectRemoteIp{DirectRemoteIp: &corev3.CidrRange{AddressPrefix: ip, PrefixLen: wrapperspb.UInt32(bits)}}}
}

func iRemote(ip string, bits uint32) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_RemoteIp{RemoteIp: &corev3.CidrRange{AddressPrefix: ip, PrefixLen: wrapperspb.UInt32(bits)}}}
}

func iState(key string, m *matcherv3.StringMatcher) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_FilterState{FilterState: &matcherv3.FilterStateMatcher{
		Key: key, Matcher: &matcherv3.FilterStateMatcher_StringMatch{StringMatch: m},
	}}}
}

func iMTLS(t *testing.T, cfg *mtlsv3.Config) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Custom{Custom: &corev3.TypedExtensionConfig{
		Name: "envoy.rbac.principals.mtls_authenticated", TypedConfig: mustAny(t, cfg),
	}}}
}

func iSAN(t *testing.T, st tlsv3.SubjectAltNameMatcher_SanType, m *matcherv3.StringMatcher) *rbacv3.Principal {
	return iMTLS(t, &mtlsv3.Config{SanMatcher: &tlsv3.SubjectAltNameMatcher{SanType: st, Matcher: m}})
}

func policy(p *rbacv3.Permission, i *rbacv3.Principal) *rbacv3.Policy {
	return &rbacv3.Policy{Permissions: []*rbacv3.Permission{p}, Principals: []*rbacv3.Principal{i}}
}

func TestRulePolicy(t *testing.T) {
	validated := iMTLS(t, &mtlsv3.Config{AnyValidatedClientCertificate: true})
	tests := map[string]struct {
		rule    ir.AuthzRule
		http    bool
		allow   bool
		want    *rbacv3.Policy
		wantErr bool
	}{
		"empty rule matches everything": {
			rule: ir.AuthzRule{Name: "r"}, http: true, want: policy(pAny(), iAny()),
		},
		"operation: every field, OR of values, negations": {
			rule: ir.AuthzRule{Name: "r", To: []ir.Operation{{
				Hosts:    []ir.StringMatch{{Exact: "a.example.com"}},
				Paths:    []ir.StringMatch{{Prefix: "/api/"}, {Exact: "/health"}},
				NotPaths: []ir.StringMatch{{Suffix: ".bak"}},
				Methods:  []string{"GET"}, NotMethods: []string{"TRACE"},
				Ports: []uint32{443, 8443}, NotPorts: []uint32{9000},
			}}},
			http: true,
			want: policy(pAnd(
				pHeader(":authority", safeRegex(`(?i)a\.example\.com(:[0-9]+)?`)),
				pOr(pPath(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "/api/"}}), pPath(exact("/health"))),
				pNot(pPath(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: ".bak"}})),
				pHeader(":method", exact("GET")),
				pNot(pHeader(":method", exact("TRACE"))),
				pOr(pPort(443), pPort(8443)),
				pNot(pPort(9000)),
			), iAny()),
		},
		"two operations are an OR": {
			rule: ir.AuthzRule{Name: "r", To: []ir.Operation{{Ports: []uint32{1}}, {NotHosts: []ir.StringMatch{{Suffix: ".internal"}}}}},
			http: true,
			want: policy(pOr(pPort(1), pNot(pHeader(":authority", safeRegex(`(?i).*\.internal(:[0-9]+)?`)))), iAny()),
		},
		"source: principals as URI SAN, IP blocks": {
			rule: ir.AuthzRule{Name: "r", From: []ir.Source{{
				Principals:     []ir.StringMatch{{Exact: "spiffe://a/b"}},
				NotPrincipals:  []ir.StringMatch{{Prefix: "spiffe://a/evil"}},
				IPBlocks:       []string{"10.0.0.0/8"},
				NotIPBlocks:    []string{"10.9.9.9"},
				RemoteIPBlocks: []string{"2001:db8::/32"},
			}}},
			http: true,
			want: policy(pAny(), iAnd(
				iSAN(t, tlsv3.SubjectAltNameMatcher_URI, exact("spiffe://a/b")),
				iNot(iSAN(t, tlsv3.SubjectAltNameMatcher_URI, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "spiffe://a/evil"}})),
				iDirect("10.0.0.0", 8),
				iNot(iDirect("10.9.9.9", 32)),
				iRemote("2001:db8::", 32),
			)),
		},
		"when: destination conditions join the permissions, others the principals": {
			rule: ir.AuthzRule{
				Name: "r",
				To:   []ir.Operation{{Methods: []string{"GET"}}},
				From: []ir.Source{{IPBlocks: []string{"10.0.0.0/8"}}, {IPBlocks: []string{"192.168.0.0/16"}}},
				When: []ir.Condition{
					{Key: ir.CondDestinationPort, Values: []ir.StringMatch{{Exact: "443"}}},
					{Key: ir.CondSNI, NotValues: []ir.StringMatch{{Suffix: ".internal"}}},
					{Key: ir.CondRequestHeader, Header: "x-env", Values: []ir.StringMatch{{Exact: "prod"}}, NotValues: []ir.StringMatch{{Present: true}}},
					{Key: ir.CondSourceIP, Values: []ir.StringMatch{{Exact: "10.1.0.0/16"}}},
					{Key: ir.CondRemoteIP, Values: []ir.StringMatch{{Exact: "203.0.113.1"}}},
				},
			},
			http: true,
			want: policy(
				pAnd(
					pHeader(":method", exact("GET")),
					pPort(443),
					pNot(&rbacv3.Permission{Rule: &rbacv3.Permission_RequestedServerName{RequestedServerName: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: ".internal"}}}}),
				),
				iAnd(
					iOr(iDirect("10.0.0.0", 8), iDirect("192.168.0.0", 16)),
					iAnd(
						&rbacv3.Principal{Identifier: &rbacv3.Principal_Header{Header: &routev3.HeaderMatcher{Name: "x-env", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("prod")}}}},
						iNot(&rbacv3.Principal{Identifier: &rbacv3.Principal_Header{Header: &routev3.HeaderMatcher{Name: "x-env", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}}),
					),
					iDirect("10.1.0.0", 16),
					iRemote("203.0.113.1", 32),
				),
			),
		},
		"certificate fields read the verified certificate": {
			rule: ir.AuthzRule{Name: "r", When: []ir.Condition{
				{Key: ir.CondCertSubject, Values: []ir.StringMatch{{Exact: "CN=a,O=b"}}},
				{Key: ir.CondCertIssuer, Values: []ir.StringMatch{{Present: true}}},
				{Key: ir.CondCertFingerprint, Values: []ir.StringMatch{{Exact: "ab12"}}},
				{Key: ir.CondCertDNSSAN, Values: []ir.StringMatch{{Suffix: ".example.com"}}},
				{Key: ir.CondCertURISAN, Values: []ir.StringMatch{{Exact: "spiffe://x"}}},
				{Key: ir.CondCertEmailSAN, Values: []ir.StringMatch{{Exact: "a@b.c"}}},
				{Key: ir.CondCertIPSAN, Values: []ir.StringMatch{{Exact: "10.0.0.1"}}},
				{Key: ir.CondSourcePrincipal, Values: []ir.StringMatch{{Exact: "spiffe://y"}}},
			}},
			http: true, allow: true,
			want: policy(pAny(), iAnd(
				iState("trustgate.peer.subject", exact("CN=a,O=b")),
				iState("trustgate.peer.issuer", safeRegex(".+")),
				iState("trustgate.peer.fingerprint_256", exact("ab12")),
				iSAN(t, tlsv3.SubjectAltNameMatcher_DNS, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: ".example.com"}}),
				iSAN(t, tlsv3.SubjectAltNameMatcher_URI, exact("spiffe://x")),
				iSAN(t, tlsv3.SubjectAltNameMatcher_EMAIL, exact("a@b.c")),
				iSAN(t, tlsv3.SubjectAltNameMatcher_IP_ADDRESS, exact("10.0.0.1")),
				iSAN(t, tlsv3.SubjectAltNameMatcher_URI, exact("spiffe://y")),
			)),
		},
		"ALLOW: certificate notValues also require a validated certificate": {
			rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: ir.CondCertIssuer, NotValues: []ir.StringMatch{{Exact: "CN=old"}}}}},
			http: true, allow: true,
			want: policy(pAny(), iAnd(validated, iNot(iState("trustgate.peer.issuer", exact("CN=old"))))),
		},
		"DENY: certificate notValues also deny clients without one": {
			rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: ir.CondCertIssuer, NotValues: []ir.StringMatch{{Exact: "CN=old"}}}}},
			http: true,
			want: policy(pAny(), iNot(iState("trustgate.peer.issuer", exact("CN=old")))),
		},
		"TCP DENY: HTTP-only fields and conditions are ignored": {
			rule: ir.AuthzRule{
				Name: "r",
				To:   []ir.Operation{{Paths: []ir.StringMatch{{Exact: "/a"}}, Ports: []uint32{22}}, {Methods: []string{"GET"}}},
				When: []ir.Condition{{Key: ir.CondRequestHeader, Header: "x", Values: []ir.StringMatch{{Exact: "1"}}}},
			},
			want: policy(pOr(pPort(22), pAny()), iAny()),
		},
		"bad CIDR":                {rule: ir.AuthzRule{Name: "r", From: []ir.Source{{IPBlocks: []string{"10.0.0.0/33"}}}}, http: true, wantErr: true},
		"source.ip not exact":     {rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: ir.CondSourceIP, Values: []ir.StringMatch{{Prefix: "10."}}}}}, http: true, wantErr: true},
		"bad port":                {rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: ir.CondDestinationPort, Values: []ir.StringMatch{{Exact: "https"}}}}}, http: true, wantErr: true},
		"port out of range":       {rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: ir.CondDestinationPort, Values: []ir.StringMatch{{Exact: "70000"}}}}}, http: true, wantErr: true},
		"unknown key":             {rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: "request.auth.claims", Values: []ir.StringMatch{{Exact: "a"}}}}}, http: true, wantErr: true},
		"header without a name":   {rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: ir.CondRequestHeader, Values: []ir.StringMatch{{Exact: "a"}}}}}, http: true, wantErr: true},
		"condition without value": {rule: ir.AuthzRule{Name: "r", When: []ir.Condition{{Key: ir.CondCertSubject}}}, http: true, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := rulePolicy(tc.rule, tc.http, tc.allow)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}

func TestRBACRules(t *testing.T) {
	denyGET := ir.AuthzRule{Name: "deny-get", To: []ir.Operation{{Methods: []string{"GET"}}}}
	allowPort := ir.AuthzRule{Name: "allow-port", To: []ir.Operation{{Ports: []uint32{22}}}}
	allowPath := ir.AuthzRule{Name: "allow-path", To: []ir.Operation{{Paths: []ir.StringMatch{{Prefix: "/"}}}}}
	tests := map[string]struct {
		in        *ir.RBAC
		http      bool
		wantDeny  *rbacv3.RBAC
		wantAllow *rbacv3.RBAC
		wantErr   bool
	}{
		"nothing": {in: &ir.RBAC{}, http: true},
		"ALLOW policy without rules denies everything": {
			in: &ir.RBAC{HasAllow: true}, http: true,
			wantAllow: &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW, Policies: map[string]*rbacv3.Policy{}},
		},
		"deny and allow on HTTP": {
			in: &ir.RBAC{Deny: []ir.AuthzRule{denyGET}, Allow: []ir.AuthzRule{allowPath}, HasAllow: true}, http: true,
			wantDeny:  &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{"deny-get": policy(pHeader(":method", exact("GET")), iAny())}},
			wantAllow: &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW, Policies: map[string]*rbacv3.Policy{"allow-path": policy(pPath(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "/"}}), iAny())}},
		},
		"TCP: ALLOW rules that need HTTP are dropped, DENY rules deny more": {
			in:        &ir.RBAC{Deny: []ir.AuthzRule{denyGET}, Allow: []ir.AuthzRule{allowPath, allowPort}, HasAllow: true},
			wantDeny:  &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{"deny-get": policy(pAny(), iAny())}},
			wantAllow: &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW, Policies: map[string]*rbacv3.Policy{"allow-port": policy(pPort(22), iAny())}},
		},
		"TCP: a header condition drops an ALLOW rule": {
			in:        &ir.RBAC{HasAllow: true, Allow: []ir.AuthzRule{{Name: "h", When: []ir.Condition{{Key: ir.CondRequestHeader, Header: "x", Values: []ir.StringMatch{{Exact: "1"}}}}}}},
			wantAllow: &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW, Policies: map[string]*rbacv3.Policy{}},
		},
		"duplicate rule names": {in: &ir.RBAC{Deny: []ir.AuthzRule{denyGET, denyGET}}, http: true, wantErr: true},
		"unnamed rule":         {in: &ir.RBAC{Deny: []ir.AuthzRule{{}}}, http: true, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			deny, allow, err := rbacRules(tc.in, tc.http)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.wantDeny, deny)
			diffProto(t, tc.wantAllow, allow)
		})
	}
}

func TestHostRegex(t *testing.T) {
	tests := map[string]struct {
		in   ir.StringMatch
		want string
	}{
		"exact, any port":  {in: ir.StringMatch{Exact: "a.com"}, want: `(?i)a\.com(:[0-9]+)?`},
		"suffix, any port": {in: ir.StringMatch{Suffix: ".a.com"}, want: `(?i).*\.a\.com(:[0-9]+)?`},
		"prefix":           {in: ir.StringMatch{Prefix: "api."}, want: `(?i)api\..*`},
		"contains":         {in: ir.StringMatch{Contains: "internal"}, want: `(?i).*internal.*`},
		"regex, any port":  {in: ir.StringMatch{Regex: "[a-z]+\\.com"}, want: `(?i)(?:[a-z]+\.com)(:[0-9]+)?`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := hostRegex(tc.in); got != tc.want {
				t.Errorf("hostRegex = %q, want %q", got, tc.want)
			}
		})
	}
}
