package envoymodel_test

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
)

// scenario is one connection and request on a compiled configuration.
type scenario struct {
	port      uint32
	sni       string
	plaintext bool
	cert      string // client name in envoymodeltest.PKI ("" none)
	resumed   bool
	src       string
	method    string
	host      string
	path      string
	headers   []envoymodel.Header
	want      want
}

// want is what a scenario must produce; zero fields are not checked,
// except verdict, which always is.
type want struct {
	verdict  envoymodel.Verdict
	status   int
	route    string
	cluster  string
	cert     envoymodel.CertVerdict
	reason   string            // a substring of the reason
	headers  map[string]string // upstream headers that must have these values
	absent   []string          // upstream headers that must be absent
	location string
	body     string
}

// run explains a scenario on a model.
func (s scenario) run(t *testing.T, p *envoymodeltest.PKI, m *envoymodel.Model) *envoymodel.Trace {
	t.Helper()
	src := s.src
	if src == "" {
		src = "192.0.2.1"
	}
	conn := envoymodel.Connection{Port: s.port, TLS: !s.plaintext, SNI: s.sni, Resumed: s.resumed, SourceIP: netip.MustParseAddr(src)}
	if s.cert != "" {
		conn.ClientChain = p.Clients[s.cert]
	}
	return m.Explain(conn, envoymodel.Request{Method: s.method, Authority: s.host, Path: s.path, Headers: s.headers})
}

// check compares a trace with what is wanted.
func (w want) check(t *testing.T, tr *envoymodel.Trace) {
	t.Helper()
	fail := func(field string, got, want any) {
		t.Errorf("%s = %v, want %v\nreason: %s\nsteps: %v", field, got, want, tr.Reason, tr.Steps)
	}
	if tr.Verdict != w.verdict {
		fail("verdict", tr.Verdict, w.verdict)
	}
	if w.status != 0 && tr.Status != w.status {
		fail("status", tr.Status, w.status)
	}
	if w.route != "" && tr.Route != w.route {
		fail("route", tr.Route, w.route)
	}
	if w.cluster != "" && tr.Cluster != w.cluster {
		fail("cluster", tr.Cluster, w.cluster)
	}
	if w.cert != "" && tr.ClientCertificate != w.cert {
		fail("clientCertificate", tr.ClientCertificate, w.cert)
	}
	if w.reason != "" && !strings.Contains(tr.Reason, w.reason) {
		fail("reason", tr.Reason, "…"+w.reason+"…")
	}
	if w.location != "" && tr.Location != w.location {
		fail("location", tr.Location, w.location)
	}
	if w.body != "" && tr.Body != w.body {
		fail("body", tr.Body, w.body)
	}
	for k, v := range w.headers {
		if got, ok := tr.UpstreamHeaders[k]; !ok || got != v {
			fail("upstream header "+k, got, v)
		}
	}
	for _, k := range w.absent {
		if got, ok := tr.UpstreamHeaders[k]; ok {
			fail("upstream header "+k, got, "absent")
		}
	}
}

// goldenModel compiles one golden case's only (or labelled) proxy group.
func goldenModel(t *testing.T, p *envoymodeltest.PKI, name string) *envoymodel.Model {
	t.Helper()
	groups := envoymodeltest.CompileGolden(t, p, filepath.Join(envoymodeltest.Root(), "compile", "testdata", name+".in.yaml"))
	if len(groups) != 1 {
		t.Fatalf("%s: %d proxy groups", name, len(groups))
	}
	m, err := envoymodel.New(groups[0].Resources, envoymodel.Options{Now: p.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var forgedSubject = []envoymodel.Header{{Name: "X-Client-Subject", Value: "CN=admin,O=Example"}}

// TestGoldenScenarios explains connections and requests on the golden
// cases' real output and checks what Envoy would do.
func TestGoldenScenarios(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	const portal, login = "portal.example.com", "login.example.com"
	cases := map[string]map[string]scenario{
		"optional-mutual": {
			"no certificate gets the configured 400": {port: 443, sni: portal, host: portal, path: "/",
				want: want{verdict: envoymodel.DirectResponse, status: 400, cert: envoymodel.CertNone, route: "edge/portal/no-client-certificate", body: "No required SSL certificate was sent\n"}},
			"valid certificate reaches the backend with its subject": {port: 443, sni: portal, cert: envoymodeltest.Alice, host: portal, path: "/x", headers: forgedSubject,
				want: want{verdict: envoymodel.Routed, cert: envoymodel.CertValidated, cluster: "outbound|8080||portal.internal",
					headers: map[string]string{"x-client-subject": "CN=alice,O=Example", "x-forwarded-proto": "https"}}},
			"revoked certificate fails the handshake": {port: 443, sni: portal, cert: envoymodeltest.Revoked, host: portal,
				want: want{verdict: envoymodel.HandshakeFailed, cert: envoymodel.CertRejected, reason: "certificate revoked"}},
			"another CA's certificate fails the handshake": {port: 443, sni: portal, cert: envoymodeltest.Stranger, host: portal,
				want: want{verdict: envoymodel.HandshakeFailed, cert: envoymodel.CertRejected, reason: "unable to get local issuer certificate"}},
			"expired certificate fails the handshake": {port: 443, sni: portal, cert: envoymodeltest.Expired, host: portal,
				want: want{verdict: envoymodel.HandshakeFailed, cert: envoymodel.CertRejected, reason: "certificate has expired"}},
			"another host on this chain is misdirected": {port: 443, sni: portal, cert: envoymodeltest.Alice, host: login,
				want: want{verdict: envoymodel.DirectResponse, status: 421, route: "misdirected-request"}},
			"host case and port are ignored": {port: 443, sni: portal, cert: envoymodeltest.Alice, host: "PORTAL.Example.com:443",
				want: want{verdict: envoymodel.Routed, cluster: "outbound|8080||portal.internal"}},
			"no certificate on login is redirected": {port: 443, sni: login, host: login, path: "/a",
				want: want{verdict: envoymodel.DirectResponse, status: 302, location: "https://portal.example.com/how-to-get-a-certificate"}},
			"no SNI matches no chain": {port: 443, host: portal,
				want: want{verdict: envoymodel.ConnectionClosed, reason: "without SNI"}},
			"plaintext to a TLS chain": {port: 443, plaintext: true, host: portal,
				want: want{verdict: envoymodel.ConnectionClosed}},
			"no listener on port 80": {port: 80, plaintext: true, host: portal,
				want: want{verdict: envoymodel.NoListener}},
		},
		"mtls-gateway-policy": {
			"pins that do not match fail the handshake": {port: 443, sni: "api.mtls.example.com", cert: envoymodeltest.Alice, host: "api.mtls.example.com",
				want: want{verdict: envoymodel.HandshakeFailed, cert: envoymodel.CertRejected, reason: "cert hash and spki"}},
			"SAN matchers require a certificate": {port: 443, sni: "api.mtls.example.com", host: "api.mtls.example.com",
				want: want{verdict: envoymodel.HandshakeFailed, cert: envoymodel.CertNone, reason: "certificate_required"}},
			"no SAN at all fails the SAN matcher": {port: 443, sni: "api.mtls.example.com", cert: envoymodeltest.Bob, host: "api.mtls.example.com",
				want: want{verdict: envoymodel.HandshakeFailed, reason: "SAN matcher"}},
		},
		"l4-and-strip": {
			"TLS passthrough by SNI": {port: 8443, sni: "db.example.com", cert: envoymodeltest.Alice,
				want: want{verdict: envoymodel.Routed, cluster: "outbound|5432||db.internal"}},
			"an unknown SNI on the passthrough port": {port: 8443, sni: "other.example.com",
				want: want{verdict: envoymodel.ConnectionClosed}},
			"plain TCP": {port: 8888, plaintext: true,
				want: want{verdict: envoymodel.Routed, cluster: "outbound|6443||kubernetes.default.svc.cluster.local"}},
			"regex rewrite strips /api": {port: 443, sni: "app.example.com", host: "app.example.com", path: "/api/v1/x?q=1",
				want: want{verdict: envoymodel.Routed, cluster: "outbound|8080||api.internal", headers: map[string]string{":path": "/v1/x?q=1"}}},
			"dot segments are resolved before routing": {port: 443, sni: "app.example.com", host: "app.example.com", path: "/static/../api/v1",
				want: want{verdict: envoymodel.Routed, headers: map[string]string{":path": "/v1"}}},
			"escaped slashes are redirected": {port: 443, sni: "app.example.com", host: "app.example.com", path: "/api%2Fv1",
				want: want{verdict: envoymodel.DirectResponse, status: 307}},
			"a header name with an underscore is rejected": {port: 443, sni: "app.example.com", host: "app.example.com", path: "/api/x",
				headers: []envoymodel.Header{{Name: "x_client_subject", Value: "CN=admin"}},
				want:    want{verdict: envoymodel.DirectResponse, status: 400, reason: "underscore"}},
		},
		"authz-istio": {
			"ALLOW on principals denies another client": {port: 443, sni: "api.example.com", cert: envoymodeltest.Alice, host: "api.example.com", path: "/v1/x",
				headers: []envoymodel.Header{{Name: "x-tenant", Value: "acme"}},
				want:    want{verdict: envoymodel.Denied, status: 403, body: "RBAC: access denied"}},
			// On a TCP chain the DENY rule loses its HTTP conditions and
			// so denies every source outside 10.0.0.0/8 (fail closed),
			// while the ALLOW rule wants 203.0.113.0/24: nobody passes.
			"network RBAC: the DENY rule fails closed on TCP": {port: 5432, sni: "db.example.com", cert: envoymodeltest.Alice, src: "203.0.113.5",
				want: want{verdict: envoymodel.Denied, reason: "deny-admin-from-outside"}},
			"network RBAC: the ALLOW rule wants the remote block": {port: 5432, sni: "db.example.com", cert: envoymodeltest.Alice, src: "10.1.2.3",
				want: want{verdict: envoymodel.Denied, reason: "no policy matched"}},
		},
		"kyma": {
			"a forged X-Client-Ssl-Cn does not pass the subject rule": {port: 443, sni: "httpbin.example.com", cert: envoymodeltest.Alice, host: "httpbin.example.com",
				headers: []envoymodel.Header{{Name: "X-Client-Ssl-Cn", Value: "CN=client,O=Example"}},
				want:    want{verdict: envoymodel.Denied, status: 403}},
		},
	}
	for file, scenarios := range cases {
		m := goldenModel(t, p, file)
		for name, s := range scenarios {
			t.Run(file+"/"+name, func(t *testing.T) { s.want.check(t, s.run(t, p, m)) })
		}
	}
}
