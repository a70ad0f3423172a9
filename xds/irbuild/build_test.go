package irbuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// loadYAML loads a configuration written inline (no Validate: these tests
// feed Build directly, fake PEM included).
func loadYAML(t *testing.T, doc string) *model.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := model.Load(model.LoadOptions{Paths: []string{path}})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

// mtlsBase is a MUTUAL gateway on 443 with secrets and one VirtualService;
// tests append policies to it.
const mtlsBase = gatewayHeader + `  - name: main
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: MODE, credentialName: cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: apps}
spec:
  hosts: ["app.example.com"]
  gateways: [gw/gw]
  http:
  - route:
    - destination: {host: app.apps.svc.cluster.local, port: {number: 8080}}
    headers:
      request:
        set: {x-client-ssl-cn: "%DOWNSTREAM_PEER_SUBJECT%"}
`

var ingress = Node{ID: "test", Labels: map[string]string{"istio": "ingressgateway"}}

// buildYAML builds the ingress proxy from mtlsBase in mode plus extra
// documents.
func buildYAML(t *testing.T, mode, extra string) (*ir.Proxy, error) {
	t.Helper()
	return Build(loadYAML(t, strings.Replace(mtlsBase, "MODE", mode, 1)+extra), ingress)
}

func TestKymaConditionBecomesCertSubject(t *testing.T) {
	p, err := buildYAML(t, "MUTUAL", `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cn, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
  rules:
  - when:
    - key: request.headers[X-Client-Ssl-Cn]
      values: ["CN=client,O=Example"]
    - key: request.headers[x-other]
      values: ["kept"]
`)
	if err != nil {
		t.Fatal(err)
	}
	want := &ir.RBAC{HasAllow: true, Allow: []ir.AuthzRule{{
		Name: "ns[gw]-policy[cn]-rule[0]",
		When: []ir.Condition{
			{Key: ir.CondCertSubject, Values: []ir.StringMatch{{Exact: "CN=client,O=Example"}}},
			{Key: ir.CondRequestHeader, Header: "x-other", Values: []ir.StringMatch{{Exact: "kept"}}},
		},
	}}}
	if diff := cmp.Diff(want, p.Listeners[0].Chains[0].RBAC); diff != "" {
		t.Errorf("RBAC (-want +got):\n%s", diff)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "rewritten to cert.subject") {
		t.Errorf("want one rewrite warning, got %q", p.Warnings)
	}
}

// Envoy's exact DNS SAN match lets a certificate's wildcard SAN satisfy it
// (source/common/tls/cert_validator/san_matcher.cc, StringSanMatcher::match
// calls Utility::dnsNameMatch for kExact on GEN_DNS). noWildcard becomes a
// regex of the quoted name, ASCII case-insensitive, which Envoy matches
// literally.
func TestNoWildcardDNSSAN(t *testing.T) {
	p, err := buildYAML(t, "MUTUAL", `---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: strict, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
  subjectAltNames:
  - {type: DNS, exact: admin.example.com, noWildcard: true}
  - {type: DNS, exact: ops.example.com}
  authorization:
    allow:
    - name: admin
      dnsSan: [{exact: admin.example.com, noWildcard: true}, {exact: ops.example.com}]
`)
	if err != nil {
		t.Fatal(err)
	}
	literal := ir.StringMatch{Regex: `[aA][dD][mM][iI][nN]\.[eE][xX][aA][mM][pP][lL][eE]\.[cC][oO][mM]`}
	chain := p.Listeners[0].Chains[0]
	wantSANs := []ir.SANMatch{{Type: ir.SANDNS, Match: literal}, {Type: ir.SANDNS, Match: ir.StringMatch{Exact: "ops.example.com"}}}
	if diff := cmp.Diff(wantSANs, chain.TLS.SubjectAltNames); diff != "" {
		t.Errorf("subjectAltNames (-want +got):\n%s", diff)
	}
	wantRBAC := &ir.RBAC{HasAllow: true, Allow: []ir.AuthzRule{{
		Name: "admin",
		When: []ir.Condition{{Key: ir.CondCertDNSSAN, Values: []ir.StringMatch{literal, {Exact: "ops.example.com"}}}},
	}}}
	if diff := cmp.Diff(wantRBAC, chain.RBAC); diff != "" {
		t.Errorf("RBAC (-want +got):\n%s", diff)
	}
}

func TestIdentityHeadersVerifyValue(t *testing.T) {
	policy := `---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: id, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
  identityHeaders: {ingressNginx: true}
`
	cases := map[string]struct {
		mode, extra string
		// vhostVerify is ssl-client-verify at the vhost ("" for none);
		// routes are the route names and their ssl-client-verify value.
		vhostVerify string
		routes      map[string]string
	}{
		"MUTUAL: every request has a verified certificate": {
			mode: "MUTUAL", vhostVerify: "SUCCESS",
			routes: map[string]string{"apps/app/0/0": ""},
		},
		"OPTIONAL_MUTUAL with rejection: requests without one never reach a backend": {
			mode: "OPTIONAL_MUTUAL", extra: "  rejection: {status: 403}\n", vhostVerify: "SUCCESS",
			routes: map[string]string{"gw/id/no-client-certificate": "", "apps/app/0/0": ""},
		},
		"OPTIONAL_MUTUAL without rejection: routes split by certificate presence": {
			mode: "OPTIONAL_MUTUAL",
			routes: map[string]string{
				"apps/app/0/0/no-client-certificate": "NONE",
				"apps/app/0/0":                       "SUCCESS",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := buildYAML(t, tc.mode, policy+tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			vh := p.RouteConfigs[0].VirtualHosts[0]
			if got := headerValue(vh.Headers.Request, sslClientVerify); got != tc.vhostVerify {
				t.Errorf("vhost ssl-client-verify = %q, want %q", got, tc.vhostVerify)
			}
			if !removes(vh.Headers.Request, "ssl-client-subject-dn") {
				t.Errorf("vhost does not remove the client's ssl-client-subject-dn: %+v", vh.Headers.Request)
			}
			got := map[string]string{}
			for _, r := range vh.Routes {
				got[r.Name] = headerValue(r.Headers.Request, sslClientVerify)
				if got[r.Name] != "" && !removes(r.Headers.Request, sslClientVerify) {
					t.Errorf("route %s sets ssl-client-verify without removing the client's", r.Name)
				}
			}
			if diff := cmp.Diff(tc.routes, got); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
		})
	}
}

func headerValue(op ir.HeaderOp, name string) string {
	for _, h := range op.Set {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func removes(op ir.HeaderOp, name string) bool {
	for _, n := range op.Remove {
		if n == name {
			return true
		}
	}
	return false
}

func TestRejectionDefaults(t *testing.T) {
	p, err := buildYAML(t, "OPTIONAL_MUTUAL", `---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: rej, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw, sectionName: main}
  rejection: {}
`)
	if err != nil {
		t.Fatal(err)
	}
	notPresented := false
	want := &ir.Route{
		Name:           "gw/rej/no-client-certificate",
		Match:          ir.RouteMatch{CertPresented: &notPresented},
		DirectResponse: &ir.DirectResponse{Status: 400, Body: "No required SSL certificate was sent\n"},
	}
	if diff := cmp.Diff(want, p.RouteConfigs[0].VirtualHosts[0].Routes[0]); diff != "" {
		t.Errorf("first route (-want +got):\n%s", diff)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := map[string]struct {
		mode, extra string
		wantIs      error
		wantMsg     string
	}{
		"missing credential unwraps to ErrSecretNotFound": {
			mode: "MUTUAL", extra: `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other, namespace: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["x.example.com"]
    tls: {mode: SIMPLE, credentialName: nope}
`,
			wantIs: model.ErrSecretNotFound, wantMsg: `spec.servers[0].tls.credentialName: secret "nope" not found`,
		},
		"MUTUAL without any CA unwraps to ErrNoCA": {
			mode: "MUTUAL", extra: `---
apiVersion: v1
kind: Secret
metadata: {name: noca, namespace: gw}
stringData: {tls.crt: CERT, tls.key: KEY}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other, namespace: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["x.example.com"]
    tls: {mode: MUTUAL, credentialName: noca}
`,
			wantIs: model.ErrNoCA, wantMsg: "MUTUAL needs a client CA",
		},
		"unsupported TLS mode": {
			mode: "ISTIO_MUTUAL", wantMsg: "tls.mode ISTIO_MUTUAL is not supported",
		},
		"two policies on one server": {
			mode: "MUTUAL", extra: `---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: a, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: b, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
`,
			wantMsg: "already applies to chain 443/gw.gw.main",
		},
		"AuthorizationPolicy targeting another namespace's Gateway": {
			mode: "MUTUAL", extra: `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: a, namespace: apps}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw, namespace: gw}
  action: DENY
  rules: [{to: [{operation: {paths: [/admin]}}]}]
`,
			wantMsg: "AuthorizationPolicy apps/a: spec.targetRef.namespace: a cross-namespace target is not supported",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := buildYAML(t, tc.mode, tc.extra)
			if err == nil {
				t.Fatalf("no error; proxy %+v", p)
			}
			var fe *model.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %T does not unwrap to *model.FieldError", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error is not %v: %v", tc.wantIs, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestBuildNilConfig(t *testing.T) {
	if _, err := Build(nil, ingress); err == nil {
		t.Error("Build(nil) returned no error")
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	cfg := loadYAML(t, strings.Replace(mtlsBase, "MODE", "MUTUAL", 1))
	first, err := Build(cfg, ingress)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		again, err := Build(cfg, ingress)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("build %d differs (-first +again):\n%s", i, diff)
		}
	}
}

func TestBuildSkipsGatewaysOfOtherProxies(t *testing.T) {
	cfg := loadYAML(t, strings.Replace(mtlsBase, "MODE", "MUTUAL", 1))
	p, err := Build(cfg, Node{Labels: map[string]string{"app": "other"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&ir.Proxy{}, p); diff != "" {
		t.Errorf("proxy of an unselected node (-want +got):\n%s", diff)
	}
}

func TestSelectors(t *testing.T) {
	cfg := &model.Config{Gateways: []*model.Gateway{
		{Spec: model.GatewaySpec{Selector: map[string]string{"istio": "ingressgateway"}}},
		{Spec: model.GatewaySpec{Selector: map[string]string{"app": "billing", "tier": "edge"}}},
		{Spec: model.GatewaySpec{}},
		{Spec: model.GatewaySpec{Selector: map[string]string{"istio": "ingressgateway"}}},
		// Two selectors a naive "k=v,k=v" key confuses: both are groups.
		{Spec: model.GatewaySpec{Selector: map[string]string{"app": "edge", "x": "y"}}},
		{Spec: model.GatewaySpec{Selector: map[string]string{"app": "edge,x=y"}}},
	}}
	want := []map[string]string{
		{},
		{"app": "billing", "tier": "edge"},
		{"app": "edge,x=y"}, // by key: "app=edge%2Cx%3Dy"
		{"app": "edge", "x": "y"},
		{"istio": "ingressgateway"},
	}
	if diff := cmp.Diff(want, Selectors(cfg)); diff != "" {
		t.Errorf("Selectors (-want +got):\n%s", diff)
	}
	if got := Selectors(nil); got != nil {
		t.Errorf("Selectors(nil) = %v", got)
	}
}
