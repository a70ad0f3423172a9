package examples_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// ingress is the proxy group of every example but the sidecar.
const ingress = "istio=ingressgateway"

// scenarioChecks holds, per example directory, the facts that make the
// example worth having, asserted on the compiled Envoy resources.
var scenarioChecks = map[string]func(t *testing.T, ex *example){
	"sidecar":              checkSidecar,
	"mtls-gateway":         checkMTLSGateway,
	"crl":                  checkCRL,
	"upstream-mtls":        checkUpstreamMTLS,
	"l4-and-strip":         checkL4AndStrip,
	"istio-secure-gateway": checkIstioSecureGateway,
	"kyma":                 checkKyma,
	"optional-mtls":        checkOptionalMTLS,
	"per-host-ca":          checkPerHostCA,
	"revocation-bound":     checkRevocationBound,
}

// checkSidecar: TLS 1.2 only and mutual TLS on both ports, for the sidecar
// group alone; Prometheus routes with their timeouts.
func checkSidecar(t *testing.T, ex *example) {
	if keys := sortedKeys(ex.groups); len(keys) != 1 || keys[0] != "app=sidecar" {
		t.Fatalf("proxy groups = %v, want only app=sidecar", keys)
	}
	res := ex.group(t, "app=sidecar")
	wantParams := &tlsv3.TlsParameters{
		TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
		TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
	}
	for _, port := range []uint32{8443, 9443} {
		fc := onlyChain(t, listenerOn(t, res, port))
		tc := downstreamTLS(t, fc)
		if !tc.GetRequireClientCertificate().GetValue() {
			t.Errorf("port %d: require_client_certificate is not set", port)
		}
		if diff := cmp.Diff(wantParams, tc.GetCommonTlsContext().GetTlsParams(), protocmp.Transform()); diff != "" {
			t.Errorf("port %d: tls_params (-want +got):\n%s", port, diff)
		}
	}

	m := hcm(t, onlyChain(t, listenerOn(t, res, 9443)))
	vh := virtualHost(t, routeConfigOf(t, res, m), "*")
	type route struct {
		Path, Prefix string
		Timeout      time.Duration
	}
	var got []route
	for _, r := range vh.GetRoutes() {
		got = append(got, route{
			Path: r.GetMatch().GetPath(), Prefix: r.GetMatch().GetPrefix(),
			Timeout: r.GetRoute().GetTimeout().AsDuration(),
		})
	}
	want := []route{
		{Path: "/federate", Timeout: 60 * time.Second},
		{Prefix: "/api/v1/series", Timeout: 30 * time.Second},
		{Prefix: "/", Timeout: 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("port 9443 routes (-want +got):\n%s", diff)
	}
}

// checkMTLSGateway: MUTUAL on the wildcard, a CA bundle of intermediate +
// root, an RBAC allow-list on the certificate, identity headers removed and
// set at the same level.
func checkMTLSGateway(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	fc := chainFor(t, listenerOn(t, res, 443), "*.mtls.example.com")
	tc := downstreamTLS(t, fc)
	if !tc.GetRequireClientCertificate().GetValue() {
		t.Error("require_client_certificate is not set")
	}
	_, caName := clientValidation(t, tc.GetCommonTlsContext())
	vc := validationSecret(t, res, caName)
	if n := pemBlocks(vc.GetTrustedCa().GetInlineBytes(), "CERTIFICATE"); n != 2 {
		t.Errorf("trusted_ca holds %d certificates, want 2 (intermediate + root)", n)
	}

	m := hcm(t, fc)
	filters := rbacFilters(t, m)
	if len(filters) != 1 || filters[0].GetRules().GetAction() != rbacv3.RBAC_ALLOW {
		t.Fatalf("want one ALLOW RBAC filter, got %d", len(filters))
	}
	rbacJSON := toJSON(t, filters[0])
	for _, want := range []string{"CN=alice", "CN=svc-", "CN=bob,O=Example Ops", ir.PeerStateKey(ir.PeerSubject)} {
		if !strings.Contains(rbacJSON, want) {
			t.Errorf("RBAC does not mention %q:\n%s", want, rbacJSON)
		}
	}
	for _, p := range []string{"partners", "operations"} {
		if _, ok := filters[0].GetRules().GetPolicies()[p]; !ok {
			t.Errorf("RBAC has no policy %q (the allow rule's name)", p)
		}
	}

	vh := virtualHost(t, routeConfigOf(t, res, m), "*.mtls.example.com")
	wantSet := map[string]string{
		"x-client-subject": "%DOWNSTREAM_PEER_SUBJECT%",
		"x-client-issuer":  "%DOWNSTREAM_PEER_ISSUER%",
		"x-client-uri-san": "%DOWNSTREAM_PEER_URI_SAN%",
	}
	if diff := cmp.Diff(wantSet, headerValues(vh.GetRequestHeadersToAdd())); diff != "" {
		t.Errorf("virtual host request_headers_to_add (-want +got):\n%s", diff)
	}
	for _, h := range vh.GetRequestHeadersToAdd() {
		if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			t.Errorf("%s: append_action %v, want OVERWRITE_IF_EXISTS_OR_ADD", h.GetHeader().GetKey(), h.GetAppendAction())
		}
	}
	if diff := cmp.Diff(sortedKeys(wantSet), sortedStrings(vh.GetRequestHeadersToRemove())); diff != "" {
		t.Errorf("virtual host request_headers_to_remove (-want +got):\n%s", diff)
	}
}

// checkCRL: the validation secret carries CRLs for both CAs, bob is revoked
// and alice is not.
func checkCRL(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	tc := downstreamTLS(t, chainFor(t, listenerOn(t, res, 443), "crl.example.com"))
	_, caName := clientValidation(t, tc.GetCommonTlsContext())
	vc := validationSecret(t, res, caName)
	crl := vc.GetCrl().GetInlineBytes()
	if n := pemBlocks(crl, "X509 CRL"); n != 2 {
		t.Errorf("crl holds %d CRLs, want 2 (one per CA)", n)
	}
	revoked := revokedSerials(t, crl)
	if bob := leafSerial(t, ex.certs, "bob"); !revoked[bob.String()] {
		t.Errorf("bob (serial %s) is not in the CRLs; revoked: %v", bob, revoked)
	}
	if alice := leafSerial(t, ex.certs, "alice"); revoked[alice.String()] {
		t.Errorf("alice (serial %s) is revoked", alice)
	}
	if vc.GetOnlyVerifyLeafCertCrl() {
		t.Error("only_verify_leaf_cert_crl is set; the example checks every CA")
	}
}

// checkUpstreamMTLS: the backend cluster sends SNI, verifies CA and name,
// and presents the client certificate.
func checkUpstreamMTLS(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	c := cluster(t, res, ir.ClusterName("backend.internal", 9443, ""))
	tc := unpack[*tlsv3.UpstreamTlsContext](t, c.GetTransportSocket().GetTypedConfig())
	if tc.GetSni() != "backend.internal" {
		t.Errorf("sni = %q, want backend.internal", tc.GetSni())
	}
	common := tc.GetCommonTlsContext()
	certs := common.GetTlsCertificateSdsSecretConfigs()
	if len(certs) != 1 {
		t.Fatalf("want 1 client certificate, got %d", len(certs))
	}
	if secret(t, res, certs[0].GetName()).GetTlsCertificate() == nil {
		t.Errorf("secret %s is not a certificate", certs[0].GetName())
	}
	static, caName := clientValidation(t, common)
	wantSANs := []*tlsv3.SubjectAltNameMatcher{{
		SanType: tlsv3.SubjectAltNameMatcher_DNS,
		Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "backend.internal"}},
	}}
	if diff := cmp.Diff(wantSANs, static.GetMatchTypedSubjectAltNames(), protocmp.Transform()); diff != "" {
		t.Errorf("backend SAN matchers (-want +got):\n%s", diff)
	}
	if len(validationSecret(t, res, caName).GetTrustedCa().GetInlineBytes()) == 0 {
		t.Errorf("validation secret %s has no trusted_ca", caName)
	}
}

// checkL4AndStrip: a plain TCP proxy on 8888 to the API server, and the
// /api prefix stripped by a regex rewrite on 443.
func checkL4AndStrip(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	fc := onlyChain(t, listenerOn(t, res, 8888))
	if fc.GetTransportSocket() != nil {
		t.Error("port 8888 terminates TLS; the API server's TLS must pass through")
	}
	if got, want := tcpProxy(t, fc).GetCluster(), ir.ClusterName("kubernetes.default.svc.cluster.local", 6443, ""); got != want {
		t.Errorf("tcp_proxy cluster = %q, want %q", got, want)
	}
	// nginx's proxy_timeout 20s, from connectionPool.tcp.idleTimeout.
	if got := tcpProxy(t, fc).GetIdleTimeout().AsDuration(); got != 20*time.Second {
		t.Errorf("tcp_proxy idle_timeout = %v, want 20s", got)
	}

	m := hcm(t, chainFor(t, listenerOn(t, res, 443), "app.example.com"))
	vh := virtualHost(t, routeConfigOf(t, res, m), "app.example.com")
	var rewrite *matcherv3.RegexMatchAndSubstitute
	for _, r := range vh.GetRoutes() {
		if r.GetMatch().GetPrefix() == "/api/" {
			rewrite = r.GetRoute().GetRegexRewrite()
		}
	}
	want := &matcherv3.RegexMatchAndSubstitute{
		Pattern:      &matcherv3.RegexMatcher{Regex: "^/api(/.*)$"},
		Substitution: `\1`,
	}
	if diff := cmp.Diff(want, rewrite, protocmp.Transform()); diff != "" {
		t.Errorf("/api/ regex_rewrite (-want +got):\n%s", diff)
	}
}

// checkIstioSecureGateway: Istio's task compiles to MUTUAL on
// httpbin.example.com with /status and /delay to httpbin:8000.
func checkIstioSecureGateway(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	fc := chainFor(t, listenerOn(t, res, 443), "httpbin.example.com")
	if !downstreamTLS(t, fc).GetRequireClientCertificate().GetValue() {
		t.Error("require_client_certificate is not set")
	}
	vh := virtualHost(t, routeConfigOf(t, res, hcm(t, fc)), "httpbin.example.com")
	var got []string
	for _, r := range vh.GetRoutes() {
		got = append(got, r.GetMatch().GetPrefix()+" -> "+r.GetRoute().GetCluster())
	}
	backend := ir.ClusterName("httpbin", 8000, "")
	want := []string{"/status -> " + backend, "/delay -> " + backend}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

// checkKyma: the header condition became a rule on the certificate (no
// header principal an attacker could set), the CA came from the -cacert
// Secret's "cacert" key, and the X-CLIENT-SSL-* headers are set.
func checkKyma(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	fc := chainFor(t, listenerOn(t, res, 443), "*.example.com")
	m := hcm(t, fc)
	filters := rbacFilters(t, m)
	if len(filters) != 1 || filters[0].GetRules().GetAction() != rbacv3.RBAC_ALLOW {
		t.Fatalf("want one ALLOW RBAC filter (the AuthorizationPolicy), got %d", len(filters))
	}
	rbacJSON := toJSON(t, filters[0])
	if strings.Contains(strings.ToLower(rbacJSON), "x-client-ssl-cn") {
		t.Errorf("RBAC matches the x-client-ssl-cn header, which the client controls:\n%s", rbacJSON)
	}
	for _, want := range []string{ir.PeerStateKey(ir.PeerSubject), `"exact":"CN=client.example.com,O=Example Org"`, ":authority", "httpbin-vs"} {
		if !strings.Contains(rbacJSON, want) {
			t.Errorf("RBAC does not mention %q:\n%s", want, rbacJSON)
		}
	}

	_, caName := clientValidation(t, downstreamTLS(t, fc).GetCommonTlsContext())
	wantCA, err := os.ReadFile(filepath.Join(ex.certs, "client-ca", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := validationSecret(t, res, caName).GetTrustedCa().GetInlineBytes(); !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(wantCA)) {
		t.Errorf("trusted_ca of %s is not kyma-mtls-certs-cacert's cacert", caName)
	}

	// The VirtualService's headers are route-level; their removal must be
	// at the same level (Envoy runs removes before adds within a level
	// only), since an empty formatter (no URI SAN) adds nothing and would
	// leave the client's copy.
	routes := virtualHost(t, routeConfigOf(t, res, m), "httpbin-vs.example.com").GetRoutes()
	if len(routes) != 1 {
		t.Fatalf("want 1 route, got %d", len(routes))
	}
	wantSet := map[string]string{
		"x-client-ssl-cn":     "%DOWNSTREAM_PEER_SUBJECT%",
		"x-client-ssl-san":    "%DOWNSTREAM_PEER_URI_SAN%",
		"x-client-ssl-issuer": "%DOWNSTREAM_PEER_ISSUER%",
	}
	if diff := cmp.Diff(wantSet, lowerKeys(headerValues(routes[0].GetRequestHeadersToAdd()))); diff != "" {
		t.Errorf("route request_headers_to_add (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sortedKeys(wantSet), sortedStrings(routes[0].GetRequestHeadersToRemove())); diff != "" {
		t.Errorf("route request_headers_to_remove (-want +got):\n%s", diff)
	}
}

// checkOptionalMUTUAL: the handshake does not require a certificate, and
// every virtual host answers requests without one with nginx's 400.
func checkOptionalMTLS(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	fc := chainFor(t, listenerOn(t, res, 443), "portal.example.com")
	tc := downstreamTLS(t, fc)
	if tc.GetRequireClientCertificate().GetValue() {
		t.Error("require_client_certificate is set: clients without a certificate never see the 400")
	}
	_, caName := clientValidation(t, tc.GetCommonTlsContext())
	validationSecret(t, res, caName)

	vh := virtualHost(t, routeConfigOf(t, res, hcm(t, fc)), "portal.example.com")
	if len(vh.GetRoutes()) < 2 {
		t.Fatalf("want the rejection route then the app's, got %d routes", len(vh.GetRoutes()))
	}
	first := vh.GetRoutes()[0]
	wantMatch := &routev3.RouteMatch_TlsContextMatchOptions{Presented: wrapperspb.Bool(false)}
	if diff := cmp.Diff(wantMatch, first.GetMatch().GetTlsContext(), protocmp.Transform()); diff != "" {
		t.Errorf("first route tls_context match (-want +got):\n%s", diff)
	}
	dr := first.GetDirectResponse()
	if dr.GetStatus() != 400 || dr.GetBody().GetInlineString() != "No required SSL certificate was sent\n" {
		t.Errorf("first route answers %d %q, want 400 %q", dr.GetStatus(), dr.GetBody().GetInlineString(), "No required SSL certificate was sent\n")
	}
}

// checkPerHostCA: one chain per host, the same server certificate, each its
// own client CA, and no catch-all chain (a client without SNI is refused).
func checkPerHostCA(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	l := listenerOn(t, res, 443)
	if n := len(l.GetFilterChains()); n != 2 {
		t.Fatalf("want 2 filter chains, got %d", n)
	}
	if l.GetDefaultFilterChain() != nil {
		t.Error("a default filter chain would serve clients without SNI with some CA")
	}
	var certNames []string
	for p, other := range map[string]string{"a": "b", "b": "a"} {
		fc := chainFor(t, l, p+".example.com")
		// A client that passed this chain's CA must not reach the other
		// host with a Host header: anything but this host is answered 421.
		rc := routeConfigOf(t, res, hcm(t, fc))
		for _, vh := range rc.GetVirtualHosts() {
			if slices.Contains(vh.GetDomains(), other+".example.com") {
				t.Errorf("%s.example.com's routes also serve %s.example.com", p, other)
			}
		}
		if code := virtualHost(t, rc, "*").GetRoutes()[0].GetDirectResponse().GetStatus(); code != 421 {
			t.Errorf("%s.example.com: other hosts get %d, want 421 Misdirected Request", p, code)
		}
		tc := downstreamTLS(t, fc)
		for _, s := range tc.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
			certNames = append(certNames, s.GetName())
		}
		_, caName := clientValidation(t, tc.GetCommonTlsContext())
		want, err := os.ReadFile(filepath.Join(ex.certs, "partner-"+p+"-ca", "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		if got := validationSecret(t, res, caName).GetTrustedCa().GetInlineBytes(); !bytes.Equal(got, want) {
			t.Errorf("%s.example.com trusts %s, not partner-%s-ca's CA", p, caName, p)
		}
	}
	if len(certNames) != 2 || certNames[0] != certNames[1] {
		t.Errorf("server certificates %v: want the one wildcard certificate on both chains", certNames)
	}
}

// checkRevocationBound: CRLs for the whole chain, the verify depth in the
// listener, connections and their streams bounded to 15 minutes.
func checkRevocationBound(t *testing.T, ex *example) {
	res := ex.group(t, ingress)
	fc := chainFor(t, listenerOn(t, res, 443), "ledger.example.com")
	static, caName := clientValidation(t, downstreamTLS(t, fc).GetCommonTlsContext())
	if diff := cmp.Diff(wrapperspb.UInt32(2), static.GetMaxVerifyDepth(), protocmp.Transform()); diff != "" {
		t.Errorf("max_verify_depth (-want +got):\n%s", diff)
	}
	vc := validationSecret(t, res, caName)
	if vc.GetOnlyVerifyLeafCertCrl() {
		t.Error("only_verify_leaf_cert_crl is set; the policy asks for every CA")
	}
	crl := vc.GetCrl().GetInlineBytes()
	if n := pemBlocks(crl, "X509 CRL"); n != 2 {
		t.Errorf("crl holds %d CRLs, want 2 (one per CA)", n)
	}
	if s := leafSerial(t, ex.certs, "former-teller"); !revokedSerials(t, crl)[s.String()] {
		t.Errorf("former-teller (serial %s) is not revoked", s)
	}
	// The README's bound (2 x 15 min + 5 s) holds only if streams end too.
	opts := hcm(t, fc).GetCommonHttpProtocolOptions()
	if diff := cmp.Diff(durationpb.New(15*time.Minute), opts.GetMaxConnectionDuration(), protocmp.Transform()); diff != "" {
		t.Errorf("max_connection_duration (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(durationpb.New(15*time.Minute), opts.GetMaxStreamDuration(), protocmp.Transform()); diff != "" {
		t.Errorf("max_stream_duration (-want +got):\n%s", diff)
	}
}

func sortedStrings(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
