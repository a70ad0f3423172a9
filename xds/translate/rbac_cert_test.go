package translate

import (
	"regexp"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	sfsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	sfshttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_filter_state/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	sfsnetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/xds/ir"
)

// TestCNRegex runs the generated patterns the way Envoy's safe_regex does (a
// full match) against RFC 2253 subjects.
func TestCNRegex(t *testing.T) {
	type probe struct {
		subject string
		match   bool
	}
	tests := map[string]struct {
		in     ir.StringMatch
		probes []probe
	}{
		"exact": {
			in: ir.StringMatch{Exact: "admin"},
			probes: []probe{
				{"CN=admin", true},
				{"CN=admin,O=Example,C=US", true},
				{"O=Example,CN=admin", true},
				{"OU=x+CN=admin,O=y", true},
				{"CN=administrator", false},
				{"CN=xadmin", false},
				{"O=admin", false},
				{"O=x\\,CN=admin", false},  // an escaped comma inside O
				{"O=x\\\\,CN=admin", true}, // an escaped backslash, then a real separator
				{"OU=CN=admin", false},     // CN= inside a value
				{"", false},
			},
		},
		"exact with RFC 2253 specials": {
			in: ir.StringMatch{Exact: "Doe, John"},
			probes: []probe{
				{"CN=Doe\\, John,O=x", true},
				{"CN=Doe, John", false},
			},
		},
		"exact with leading #, trailing space, non-ASCII": {
			in: ir.StringMatch{Exact: "#é "},
			probes: []probe{
				{"CN=\\#\\C3\\A9\\ ", true},
				{"CN=#é ", false},
			},
		},
		"prefix": {
			in: ir.StringMatch{Prefix: "svc-"},
			probes: []probe{
				{"CN=svc-a,O=x", true},
				{"CN=svc-,O=x", true},
				{"CN=svc\\,-a", false},
				{"CN=svcx,O=svc-", false},
			},
		},
		"suffix": {
			in:     ir.StringMatch{Suffix: ".example.com"},
			probes: []probe{{"CN=a.example.com", true}, {"CN=a.example.com.evil,O=x", false}, {"O=a.example.com", false}},
		},
		"contains": {
			in:     ir.StringMatch{Contains: "ops"},
			probes: []probe{{"O=x,CN=devops-1", true}, {"CN=dev,OU=ops", false}},
		},
		"ignore case": {
			in:     ir.StringMatch{Exact: "Admin", IgnoreCase: true},
			probes: []probe{{"CN=ADMIN", true}, {"cn=admin", false}},
		},
		"regex on the value": {
			in:     ir.StringMatch{Regex: "node-[0-9]+"},
			probes: []probe{{"CN=node-12,O=x", true}, {"CN=node-x", false}},
		},
		"present": {
			in:     ir.StringMatch{Present: true},
			probes: []probe{{"O=x,CN=", true}, {"CN=a", true}, {"O=x", false}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			re, err := cnRegex(tc.in)
			wantErr(t, err, false)
			full, err := regexp.Compile("^(?:" + re + ")$")
			if err != nil {
				t.Fatalf("%q does not compile: %v", re, err)
			}
			for _, p := range tc.probes {
				if got := full.MatchString(p.subject); got != p.match {
					t.Errorf("subject %q: match = %v, want %v (regex %q)", p.subject, got, p.match, re)
				}
			}
		})
	}
}

func TestCNRegexEmpty(t *testing.T) {
	_, err := cnRegex(ir.StringMatch{})
	wantErr(t, err, true)
}

func TestPeerFields(t *testing.T) {
	cond := func(k ir.ConditionKey) ir.Condition {
		return ir.Condition{Key: k, Values: []ir.StringMatch{{Exact: "x"}}}
	}
	tests := map[string]struct {
		in   *ir.RBAC
		http bool
		want []ir.PeerField
	}{
		"none": {in: &ir.RBAC{Allow: []ir.AuthzRule{{Name: "a", When: []ir.Condition{cond(ir.CondCertDNSSAN)}}}}, http: true},
		"fixed order, CN reads the subject": {
			in: &ir.RBAC{
				Deny:  []ir.AuthzRule{{Name: "d", When: []ir.Condition{cond(ir.CondCertFingerprint), cond(ir.CondCertCN)}}},
				Allow: []ir.AuthzRule{{Name: "a", When: []ir.Condition{cond(ir.CondCertIssuer), cond(ir.CondCertSubject)}}},
			},
			http: true,
			want: []ir.PeerField{ir.PeerSubject, ir.PeerIssuer, ir.PeerFingerprint},
		},
		"a presented certificate is read from the fingerprint": {
			in:   &ir.RBAC{Deny: []ir.AuthzRule{{Name: "d", When: []ir.Condition{{Key: ir.CondCertPresented, NotValues: []ir.StringMatch{{Present: true}}}}}}},
			http: true,
			want: []ir.PeerField{ir.PeerFingerprint},
		},
		"TCP: fields of dropped ALLOW rules are not needed": {
			in: &ir.RBAC{Allow: []ir.AuthzRule{{Name: "a", To: []ir.Operation{{Methods: []string{"GET"}}}, When: []ir.Condition{cond(ir.CondCertIssuer)}}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, peerFields(tc.in, tc.http)); d != "" {
				t.Errorf("peerFields (-want +got):\n%s", d)
			}
		})
	}
}

// TestPeerStateFilters checks the set_filter_state entries and the hook
// each filter kind uses.
func TestPeerStateFilters(t *testing.T) {
	value := &sfsv3.FilterStateValue{
		Key:        &sfsv3.FilterStateValue_ObjectKey{ObjectKey: "trustgate.peer.issuer"},
		FactoryKey: "envoy.string",
		Value: &sfsv3.FilterStateValue_FormatString{FormatString: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: "%DOWNSTREAM_PEER_ISSUER%"},
			}},
			OmitEmptyValues: true,
		}},
		SkipIfEmpty: true,
	}
	fields := []ir.PeerField{ir.PeerIssuer}
	t.Run("http: on request headers", func(t *testing.T) {
		got, err := peerStateHTTPFilter(fields)
		wantErr(t, err, false)
		diffProto(t, &hcmv3.HttpFilter{
			Name:       "envoy.filters.http.set_filter_state",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &sfshttpv3.Config{OnRequestHeaders: []*sfsv3.FilterStateValue{value}})},
		}, got)
	})
	t.Run("network: after the TLS handshake", func(t *testing.T) {
		got, err := peerStateNetworkFilter(fields)
		wantErr(t, err, false)
		diffProto(t, &listenerv3.Filter{
			Name:       "envoy.filters.network.set_filter_state",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &sfsnetv3.Config{OnDownstreamTlsHandshake: []*sfsv3.FilterStateValue{value}})},
		}, got)
	})
}

// "A certificate was presented" is the fingerprint in filter state, which
// set_filter_state sets only when the formatter yields one (see
// peerStateValues). It does not use mtls_authenticated: Envoy reports a
// resumed TLS session as not validated. A negation is meant ("no
// certificate"), so an ALLOW rule does not add "validated" to it as it does
// to the notValues of certificate fields.
func TestCertPresentedPrincipal(t *testing.T) {
	fp := iState("trustgate.peer.fingerprint_256", safeRegex(".+"))
	present := []ir.StringMatch{{Present: true}}
	tests := map[string]struct {
		in      ir.Condition
		allow   bool
		want    *rbacv3.Principal
		wantErr bool
	}{
		"presented":             {in: ir.Condition{Key: ir.CondCertPresented, Values: present}, allow: true, want: fp},
		"not presented, ALLOW":  {in: ir.Condition{Key: ir.CondCertPresented, NotValues: present}, allow: true, want: iNot(fp)},
		"not presented, DENY":   {in: ir.Condition{Key: ir.CondCertPresented, NotValues: present}, want: iNot(fp)},
		"never":                 {in: ir.Condition{Key: ir.CondCertPresented, Values: present, NotValues: present}, allow: true, want: iAnd(fp, iNot(fp))},
		"only a presence match": {in: ir.Condition{Key: ir.CondCertPresented, Values: []ir.StringMatch{{Exact: "yes"}}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := conditionPrincipal(tc.in, tc.allow)
			wantErr(t, err, tc.wantErr)
			if !tc.wantErr {
				diffProto(t, tc.want, got)
			}
		})
	}
}
