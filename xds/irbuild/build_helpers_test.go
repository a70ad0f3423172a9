package irbuild

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

func TestIntersectHost(t *testing.T) {
	cases := map[string]struct {
		server, vs string
		want       string
		ok         bool
	}{
		"exact equal":                       {"a.com", "a.com", "a.com", true},
		"server wildcard admits a name":     {"*.a.com", "x.a.com", "x.a.com", true},
		"server wildcard admits itself":     {"*.a.com", "*.a.com", "*.a.com", true},
		"server wildcard admits narrower":   {"*.a.com", "*.x.a.com", "*.x.a.com", true},
		"server wildcard not the apex":      {"*.a.com", "a.com", "", false},
		"server star admits everything":     {"*", "x.b.org", "x.b.org", true},
		"vs star takes the server host":     {"x.a.com", "*", "x.a.com", true},
		"vs wildcard under exact server":    {"x.a.com", "*.a.com", "x.a.com", true},
		"broader vs wildcard narrows":       {"*.a.com", "*.com", "*.a.com", true},
		"unrelated names":                   {"a.com", "b.com", "", false},
		"suffix without dot boundary fails": {"*.a.com", "xa.com", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := intersectHost(tc.server, tc.vs)
			if got != tc.want || ok != tc.ok {
				t.Errorf("intersectHost(%q, %q) = %q, %v; want %q, %v", tc.server, tc.vs, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestGatewayRef(t *testing.T) {
	cases := map[string]struct {
		ref      string
		ns, name string
		ok       bool
	}{
		"short name in the VirtualService namespace": {"gw", "vsns", "gw", true},
		"namespace/name":        {"edge/gw", "edge", "gw", true},
		"Kyma FQDN form":        {"kyma-gateway.kyma-system.svc.cluster.local", "kyma-system", "kyma-gateway", true},
		"mesh is not a Gateway": {"mesh", "", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns, n, ok := gatewayRef(tc.ref, "vsns")
			if ns != tc.ns || n != tc.name || ok != tc.ok {
				t.Errorf("gatewayRef(%q) = %q, %q, %v; want %q, %q, %v", tc.ref, ns, n, ok, tc.ns, tc.name, tc.ok)
			}
		})
	}
}

func TestServerHostNamespaces(t *testing.T) {
	cases := map[string]struct {
		host, vsNS string
		admits     bool
	}{
		"no prefix admits any namespace": {"a.com", "x", true},
		"star prefix":                    {"*/a.com", "x", true},
		"dot is the Gateway's namespace": {"./a.com", "gwns", true},
		"dot rejects another namespace":  {"./a.com", "x", false},
		"named namespace":                {"apps/a.com", "apps", true},
		"named namespace rejects others": {"apps/a.com", "x", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := admitsNamespace(parseServerHost(tc.host), tc.vsNS, "gwns"); got != tc.admits {
				t.Errorf("admitsNamespace(%q, %q) = %v", tc.host, tc.vsNS, got)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tls := func(mode string) *model.ServerTLSSettings { return &model.ServerTLSSettings{Mode: mode} }
	cases := map[string]struct {
		proto string
		tls   *model.ServerTLSSettings
		want  serverKind
		bad   bool
	}{
		"HTTP":                         {"HTTP", nil, kindHTTP, false},
		"http lower-case":              {"http", nil, kindHTTP, false},
		"HTTP with httpsRedirect only": {"HTTP", &model.ServerTLSSettings{HTTPSRedirect: true}, kindHTTP, false},
		"GRPC":                         {"GRPC", nil, kindHTTP, false},
		"HTTPS MUTUAL":                 {"HTTPS", tls("MUTUAL"), kindTerminateHTTP, false},
		"HTTPS without mode is passthrough (Istio's default)": {"HTTPS", tls(""), kindPassthrough, false},
		"TLS SIMPLE":                           {"TLS", tls("SIMPLE"), kindTerminateTCP, false},
		"TLS PASSTHROUGH":                      {"TLS", tls("PASSTHROUGH"), kindPassthrough, false},
		"TCP":                                  {"TCP", nil, kindTCP, false},
		"HTTPS without tls":                    {"HTTPS", nil, 0, true},
		"HTTP cannot terminate":                {"HTTP", tls("SIMPLE"), 0, true},
		"ISTIO_MUTUAL is not supported":        {"HTTPS", tls("ISTIO_MUTUAL"), 0, true},
		"AUTO_PASSTHROUGH is not supported":    {"TLS", tls("AUTO_PASSTHROUGH"), 0, true},
		"MONGO is not supported":               {"MONGO", nil, 0, true},
		"TCP with a TLS mode is contradictory": {"TCP", tls("SIMPLE"), 0, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kind, _, msg := classify(&model.Server{Port: model.Port{Protocol: tc.proto}, TLS: tc.tls})
			if (msg != "") != tc.bad || (!tc.bad && kind != tc.want) {
				t.Errorf("classify = %v, %q; want %v, bad=%v", kind, msg, tc.want, tc.bad)
			}
		})
	}
}

func TestIstioMatch(t *testing.T) {
	cases := map[string]struct {
		in         string
		ignoreCase bool
		want       ir.StringMatch
	}{
		"star alone is present": {"*", true, ir.StringMatch{Present: true}},
		"leading star suffix":   {"*.example.com", true, ir.StringMatch{Suffix: ".example.com", IgnoreCase: true}},
		"trailing star prefix":  {"/api/*", false, ir.StringMatch{Prefix: "/api/"}},
		"exact":                 {"/health", false, ir.StringMatch{Exact: "/health"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, istioMatch(tc.in, tc.ignoreCase)); diff != "" {
				t.Errorf("istioMatch(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestPrincipalMatch(t *testing.T) {
	cases := map[string]struct {
		in   string
		want ir.StringMatch
	}{
		"any":    {"*", ir.StringMatch{Present: true}},
		"exact":  {"example.com/ns/a/sa/b", ir.StringMatch{Exact: "spiffe://example.com/ns/a/sa/b"}},
		"prefix": {"example.com/ns/a/*", ir.StringMatch{Prefix: "spiffe://example.com/ns/a/"}},
		"suffix": {"*/sa/b.c", ir.StringMatch{Regex: `spiffe://.*/sa/b\.c`}},
		// Outside a mesh users write the whole URI: it is not prefixed again.
		"full spiffe URI":        {"spiffe://example.com/client", ir.StringMatch{Exact: "spiffe://example.com/client"}},
		"full spiffe URI prefix": {"spiffe://example.com/ops/*", ir.StringMatch{Prefix: "spiffe://example.com/ops/"}},
		"other scheme":           {"urn://tenant/a", ir.StringMatch{Exact: "urn://tenant/a"}},
		"any URI of a scheme":    {"spiffe://*", ir.StringMatch{Regex: `spiffe://.*`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, principalMatch(tc.in)); diff != "" {
				t.Errorf("principalMatch(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestServerSANs(t *testing.T) {
	ex := func(v string) ir.StringMatch { return ir.StringMatch{Exact: v} }
	want := []ir.SANMatch{
		{Type: ir.SANDNS, Match: ex("a.example.com")}, {Type: ir.SANURI, Match: ex("a.example.com")},
		{Type: ir.SANDNS, Match: ex("10.0.0.1")}, {Type: ir.SANURI, Match: ex("10.0.0.1")}, {Type: ir.SANIP, Match: ex("10.0.0.1")},
		{Type: ir.SANDNS, Match: ex("ops@example.com")}, {Type: ir.SANURI, Match: ex("ops@example.com")}, {Type: ir.SANEmail, Match: ex("ops@example.com")},
	}
	got := serverSANs([]string{"a.example.com", "10.0.0.1", "ops@example.com"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("serverSANs (-want +got):\n%s", diff)
	}
}

func TestUpstreamSANs(t *testing.T) {
	cases := map[string]struct {
		values    []string
		sni, host string
		want      []ir.SANMatch
	}{
		"given names, URI by scheme": {
			values: []string{"b.internal", "spiffe://example.com/b"}, sni: "b.internal", host: "b.internal",
			want: []ir.SANMatch{{Type: ir.SANDNS, Match: ir.StringMatch{Exact: "b.internal"}}, {Type: ir.SANURI, Match: ir.StringMatch{Exact: "spiffe://example.com/b"}}},
		},
		"none given: verify the SNI": {
			sni: "b.example.com", host: "b.internal",
			want: []ir.SANMatch{{Type: ir.SANDNS, Match: ir.StringMatch{Exact: "b.example.com"}}},
		},
		"IP host without SNI: verify the IP": {
			host: "10.0.0.7",
			want: []ir.SANMatch{{Type: ir.SANIP, Match: ir.StringMatch{Exact: "10.0.0.7"}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, upstreamSANs(tc.values, tc.sni, tc.host)); diff != "" {
				t.Errorf("upstreamSANs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileKeyIsStable(t *testing.T) {
	a, b := fileKey("certs/tls.crt", "certs/tls.key"), fileKey("certs/tls.crt", "certs/tls.key")
	if a != b || len(a) != 12 {
		t.Errorf("fileKey not stable or not 12 hex digits: %q %q", a, b)
	}
	if fileKey("a", "bc") == fileKey("ab", "c") {
		t.Error("fileKey must separate the paths")
	}
}

// gatewayHeader is the Secret "cred" (certificate, key and CA) and the
// head of the Gateway gw/gw, up to its servers: the fixtures append their
// servers and further documents.
const gatewayHeader = `
apiVersion: v1
kind: Secret
metadata: {name: cred, namespace: gw}
stringData: {tls.crt: CERT, tls.key: KEY, ca.crt: CA}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
`
