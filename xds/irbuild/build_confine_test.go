package irbuild

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trustgate/trustgate/xds/ir"
)

// twoServers is a Gateway with a public server and an mTLS server on one
// port (hosts and the second server's extra settings filled in), a
// VirtualService bound to it, and the secret both use.
const twoServers = gatewayHeader + `  - name: public
    port: {number: 443, name: https-public, protocol: HTTPS}
    hosts: [%q]
    tls: {mode: SIMPLE, credentialName: cred}
  - name: admin
    port: {number: 443, name: https-admin, protocol: HTTPS}
    hosts: [%q]
    tls: {mode: MUTUAL, credentialName: cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: apps}
spec:
  hosts: [%s]
  gateways: [gw/gw]
  http:
  - match: [{authority: {exact: admin.example.com}}]
    route: [{destination: {host: admin.apps.svc.cluster.local, port: {number: 8080}}}]
  - route: [{destination: {host: web.apps.svc.cluster.local, port: {number: 8080}}}]
`

// routeConfigNamed finds a route configuration.
func routeConfigNamed(t *testing.T, p *ir.Proxy, name string) *ir.RouteConfig {
	t.Helper()
	for _, rc := range p.RouteConfigs {
		if rc.Name == name {
			return rc
		}
	}
	t.Fatalf("no route configuration %s", name)
	return nil
}

// domainsByVhost is a route configuration's virtual hosts and their domains.
func domainsByVhost(rc *ir.RouteConfig) map[string][]string {
	out := map[string][]string{}
	for _, vh := range rc.VirtualHosts {
		out[vh.Name] = vh.Domains
	}
	return out
}

// TestConfineHosts shows the cases on the public server's route
// configuration: the admin host gets a 421 of its own (exact, or the
// wildcard), and a domain SNI gives to the admin server is taken out.
func TestConfineHosts(t *testing.T) {
	cases := map[string]struct {
		public, admin, vsHosts string
		want                   map[string][]string // public route configuration
	}{
		"wildcard public server, VirtualService for the wildcard": {
			public: "*.example.com", admin: "admin.example.com", vsHosts: `"*.example.com"`,
			want: map[string][]string{"apps/app": {"*.example.com"}, MisdirectedVirtualHost: {"*", "admin.example.com"}},
		},
		"catch-all public server, VirtualService for everything picking admin by authority": {
			public: "*", admin: "admin.example.com", vsHosts: `"*"`,
			want: map[string][]string{"apps/app": {"*"}, MisdirectedVirtualHost: {"admin.example.com"}},
		},
		"VirtualService naming the admin host on the public server": {
			public: "*.example.com", admin: "admin.example.com", vsHosts: `"admin.example.com", "www.example.com"`,
			want: map[string][]string{"apps/app": {"www.example.com"}, MisdirectedVirtualHost: {"*"}},
		},
		"admin wildcard inside the public wildcard": {
			public: "*.example.com", admin: "*.admin.example.com", vsHosts: `"*.example.com", "api.admin.example.com"`,
			want: map[string][]string{"apps/app": {"*.example.com"}, MisdirectedVirtualHost: {"*", "*.admin.example.com"}},
		},
		"public exact host inside the admin wildcard stays public": {
			public: "www.admin.example.com", admin: "*.admin.example.com", vsHosts: `"*"`,
			want: map[string][]string{"apps/app": {"www.admin.example.com"}, MisdirectedVirtualHost: {"*"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Build(loadYAML(t, fmt.Sprintf(twoServers, tc.public, tc.admin, tc.vsHosts)), ingress)
			if err != nil {
				t.Fatal(err)
			}
			got := domainsByVhost(routeConfigNamed(t, p, "https.443.gw.gw.public"))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("public route configuration (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSNIOwner(t *testing.T) {
	chain := func(tp string, names ...string) *chainInfo {
		return &chainInfo{chain: &ir.Chain{Name: strings.Join(names, ",") + tp, ServerNames: names, TransportProtocol: tp}}
	}
	star, wild, nested, exact := chain(""), chain("", "*.example.com"), chain("", "*.admin.example.com"), chain("", "admin.example.com")
	pass := chain("tls", "admin.example.com")
	owners := newSNIOwners([]*chainInfo{star, wild, nested, exact, pass})
	cases := map[string]*chainInfo{
		"admin.example.com":       pass, // passthrough wins an equal name, as in Envoy
		"x.admin.example.com":     nested,
		"*.admin.example.com":     nested,
		"*.x.admin.example.com":   nested,
		"www.example.com":         wild,
		"*.example.com":           wild,
		"example.com":             star,
		"other.org":               star,
		"*":                       star,
		"a.b.c.admin.example.com": nested,
	}
	for name, want := range cases {
		if got := owners.owner(name); got != want {
			t.Errorf("owner(%q) = %s, want %s", name, got.chain.Name, want.chain.Name)
		}
	}
	if got := newSNIOwners([]*chainInfo{exact}).owner("other.org"); got != nil {
		t.Errorf("owner without a catch-all = %s, want none", got.chain.Name)
	}
}

// passthroughOver is a MUTUAL server and a PASSTHROUGH server on one port
// whose tls route claims sni.
const passthroughOver = gatewayHeader + `  - name: admin
    port: {number: 443, name: https-admin, protocol: HTTPS}
    hosts: [%q]
    tls: {mode: MUTUAL, credentialName: cred}
  - name: pass
    port: {number: 443, name: tls-pass, protocol: TLS}
    hosts: [%q]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: pass, namespace: apps}
spec:
  hosts: [%q]
  gateways: [gw/gw]
  tls:
  - match: [{sniHosts: [%q]}]
    route: [{destination: {host: db.apps.svc.cluster.local, port: {number: 5432}}}]
`

func TestPassthroughTakeover(t *testing.T) {
	cases := map[string]struct {
		admin, pass, sni string
		wantErr          string // "" for none
	}{
		"passthrough SNI equal to the MUTUAL host": {
			admin: "admin.example.com", pass: "*.example.com", sni: "admin.example.com",
			wantErr: `spec.tls[0]: SNI "admin.example.com" on port 443 is passed through by Gateway gw/gw spec.servers[1]`,
		},
		"passthrough wildcard equal to the MUTUAL wildcard": {
			admin: "*.example.com", pass: "*", sni: "*.example.com",
			wantErr: `SNI "*.example.com" on port 443 is passed through by Gateway gw/gw spec.servers[1]`,
		},
		"passthrough of a more specific name is the user's choice": {
			admin: "*.example.com", pass: "db.example.com", sni: "db.example.com",
		},
		"MUTUAL exact inside a passthrough wildcard: SNI picks the exact name": {
			admin: "admin.example.com", pass: "*.example.com", sni: "*.example.com",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Build(loadYAML(t, fmt.Sprintf(passthroughOver, tc.admin, tc.pass, tc.sni, tc.sni)), ingress)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatal("no error")
			case tc.wantErr != "":
				for _, part := range []string{tc.wantErr, "terminated with MUTUAL by Gateway gw/gw spec.servers[0]", "no certificate would be checked"} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not contain %q", err, part)
					}
				}
			}
		})
	}
}
