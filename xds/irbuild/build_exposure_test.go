package irbuild

import (
	"fmt"
	"github.com/trustgate/trustgate/xds/ir"
	"slices"
	"strings"
	"testing"
)

// mtlsAndOther is a MUTUAL server for admin.example.com with identity
// headers, another server (%s: plaintext, SIMPLE, ...) and a VirtualService
// for admin.example.com bound to both; extra documents follow.
const mtlsAndOther = gatewayHeader + `  - name: admin
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: [admin.example.com]
    tls: {mode: MUTUAL, credentialName: cred}
  - name: other
%s
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: admin, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw, sectionName: admin}
  identityHeaders: {subject: x-client-subject, ingressNginx: true}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: admin, namespace: apps}
spec:
  hosts: [admin.example.com]
  gateways: [gw/gw]
  http:
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: admin.apps.svc.cluster.local, port: {number: 8080}}}]
    headers: {request: {set: {x-peer-uri: "%%DOWNSTREAM_PEER_URI_SAN%%"}}}
  - route: [{destination: {host: admin.apps.svc.cluster.local, port: {number: 8080}}}]
%s`

const (
	plaintext80   = "    port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]"
	redirected80  = plaintext80 + "\n    tls: {httpsRedirect: true}"
	simple8443    = "    port: {number: 8443, name: https-public, protocol: HTTPS}\n    hosts: [\"*.example.com\"]\n    tls: {mode: SIMPLE, credentialName: cred}"
	legacyOnPort8 = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: legacy, namespace: apps}
spec:
  hosts: [legacy.example.com]
  gateways: [gw/gw]
  http:
  - route: [{destination: {host: admin.apps.svc.cluster.local, port: {number: 8080}}}]
`
	// unrelatedOnSimple is a host neither the admin server nor its
	// VirtualService routes, in front of a backend of its own.
	unrelatedOnSimple = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: apps}
spec:
  hosts: [shop.example.com]
  gateways: [gw/gw]
  http:
  - route: [{destination: {host: shop.apps.svc.cluster.local, port: {number: 8080}}}]
`
)

// vhostNamed finds a virtual host of a route configuration.
func vhostNamed(t *testing.T, rc *ir.RouteConfig, name string) *ir.VirtualHost {
	t.Helper()
	for _, vh := range rc.VirtualHosts {
		if vh.Name == name {
			return vh
		}
	}
	t.Fatalf("%s has no virtual host %s", rc.Name, name)
	return nil
}

// identityFromAdmin are the headers the admin server fills from the
// certificate at its virtual host.
var identityFromAdmin = []string{"ssl-client-issuer-dn", "ssl-client-subject-dn", "ssl-client-verify", "x-client-subject"}

func TestIdentityHeadersStrippedElsewhere(t *testing.T) {
	cases := map[string]struct {
		other, extra string
		rc, vhost    string
	}{
		"the same host in plaintext": {
			other: plaintext80, rc: "http.80", vhost: "apps/admin",
		},
		"the same host redirected to HTTPS": {
			other: redirected80, rc: "http.80", vhost: "apps/admin",
		},
		"the same host on a SIMPLE server of another port": {
			other: simple8443, rc: "https.8443.gw.gw.other", vhost: "apps/admin",
		},
		"another host in front of the same backend": {
			other: plaintext80, extra: legacyOnPort8, rc: "http.80", vhost: "apps/legacy",
		},
		"another host, server and backend (issue 12's P2: anywhere on the proxy)": {
			other: simple8443, extra: unrelatedOnSimple, rc: "https.8443.gw.gw.other", vhost: "apps/shop",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Build(loadYAML(t, fmt.Sprintf(mtlsAndOther, tc.other, tc.extra)), ingress)
			if err != nil {
				t.Fatal(err)
			}
			vh := vhostNamed(t, routeConfigNamed(t, p, tc.rc), tc.vhost)
			for _, h := range identityFromAdmin {
				if !slices.Contains(vh.Headers.Request.Remove, h) {
					t.Errorf("%s %s does not remove the client's %s: %v", tc.rc, tc.vhost, h, vh.Headers.Request.Remove)
				}
			}
			// x-peer-uri is set by admin's /api route itself: there the
			// other routes remove it at route level, and the vhost must not
			// (it runs after the route and would remove the gateway's own
			// value); a virtual host with no such route removes it itself.
			if !slices.ContainsFunc(vh.Routes, func(r *ir.Route) bool { return headerValue(r.Headers.Request, "x-peer-uri") != "" }) {
				if !slices.Contains(vh.Headers.Request.Remove, "x-peer-uri") {
					t.Errorf("%s %s keeps the client's x-peer-uri", tc.rc, tc.vhost)
				}
				return
			}
			if slices.Contains(vh.Headers.Request.Remove, "x-peer-uri") {
				t.Errorf("%s %s removes x-peer-uri at the virtual host, after the route sets it", tc.rc, tc.vhost)
			}
			for _, r := range vh.Routes {
				if r.Forward != nil && !slices.Contains(r.Headers.Request.Remove, "x-peer-uri") {
					t.Errorf("route %s keeps the client's x-peer-uri", r.Name)
				}
			}
		})
	}
}

// TestUnprotectedHostWarning: a host served with MUTUAL and also routed
// without a certificate on another port is named, with the fix.
func TestUnprotectedHostWarning(t *testing.T) {
	cases := map[string]struct {
		other string
		want  string // "" for no warning
	}{
		"plaintext without redirect": {
			other: plaintext80,
			want:  `spec.servers[1]: host "admin.example.com" is served with MUTUAL on port 443 by Gateway gw/gw spec.servers[0]`,
		},
		"plaintext with httpsRedirect": {other: redirected80},
		"SIMPLE on another port": {
			other: simple8443,
			want:  `routes it to a backend over TLS without asking for a client certificate (SIMPLE) on port 8443, where a client needs no certificate: remove the host from this server, or make it MUTUAL`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Build(loadYAML(t, fmt.Sprintf(mtlsAndOther, tc.other, "")), ingress)
			if err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, w := range p.Warnings {
				if strings.Contains(w, "served with MUTUAL") {
					found = append(found, w)
				}
			}
			switch {
			case tc.want == "" && len(found) > 0:
				t.Errorf("unexpected warnings %q", found)
			case tc.want != "" && (len(found) != 1 || !strings.Contains(found[0], tc.want)):
				t.Errorf("warnings %q, want one containing %q", found, tc.want)
			}
			if tc.other == plaintext80 && len(found) == 1 && !strings.Contains(found[0], "set tls.httpsRedirect: true on this server, or remove the host from it") {
				t.Errorf("warning %q does not name the fix", found[0])
			}
		})
	}
}

// TestLocalRoutesBypassRBACOnlyUnderRBAC: the 421 and the rejection skip a
// chain's RBAC; without RBAC nothing is marked.
func TestLocalRoutesBypassRBACOnlyUnderRBAC(t *testing.T) {
	rejection := `---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: rej, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw, sectionName: main}
  rejection: {}
`
	allow := `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: team, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
  rules: [{from: [{source: {principals: ["spiffe://example.com/team"]}}]}]
`
	for name, withAllow := range map[string]bool{"without RBAC": false, "with an ALLOW policy": true} {
		t.Run(name, func(t *testing.T) {
			extra := rejection
			if withAllow {
				extra += allow
			}
			p, err := buildYAML(t, "OPTIONAL_MUTUAL", extra)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, vh := range p.RouteConfigs[0].VirtualHosts {
				for _, r := range vh.Routes {
					got[r.Name] = r.BypassRBAC
				}
			}
			want := map[string]bool{"gw/rej/no-client-certificate": withAllow, MisdirectedVirtualHost: withAllow, "apps/app/0/0": false}
			for r, w := range want {
				if g, ok := got[r]; !ok || g != w {
					t.Errorf("route %s: BypassRBAC = %v (present %v), want %v", r, g, ok, w)
				}
			}
		})
	}
}
