package irbuild

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trustgate/trustgate/xds/ir"
)

// starAndNames is a MUTUAL server for "*.mtls.example.com" and "*" (the
// second server's hosts and a VirtualService for api.mtls.example.com
// follow it on port 443 when %s is not empty).
const starAndNames = gatewayHeader + `  - name: mtls
    port: {number: 443, name: https-mtls, protocol: HTTPS}
    hosts: ["*.mtls.example.com", "*"]
    tls: {mode: MUTUAL, credentialName: cred}
%s---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: internal, namespace: apps}
spec:
  hosts: [api.mtls.example.com]
  gateways: [gw/gw]
  http:
  - route: [{destination: {host: internal.apps.svc.cluster.local, port: {number: 8080}}}]
`

const publicWildcard = `  - name: public
    port: {number: 443, name: https-public, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: cred}
`

// chainMatch is what Envoy's filter_chain_match of c says (see
// translate.matchedServerNames).
func chainMatch(c *ir.Chain) string {
	names := c.ServerNames
	if c.DefaultServer {
		names = nil
	}
	return c.TransportProtocol + "|" + strings.Join(names, ",")
}

// TestStarServerWithNames: a server whose hosts are "*" besides other names
// gets a chain matching the names by SNI and a catch-all chain with the same
// TLS context and route configuration, so that another server's wildcard
// cannot take its names; the listener keeps distinct filter chain matches
// and the tls_inspector. Alone on its port, it is the default server: one
// chain.
func TestStarServerWithNames(t *testing.T) {
	cases := map[string]struct {
		other   string
		chains  map[string]string // chain name: match
		inspect bool
	}{
		"beside a wildcard server": {
			other: publicWildcard,
			chains: map[string]string{
				"443/gw.gw.mtls": "|*.mtls.example.com", "443/gw.gw.mtls/any-sni": "|", "443/gw.gw.public": "|*.example.com",
			},
			inspect: true,
		},
		"alone on its port": {
			chains: map[string]string{"443/gw.gw.mtls": "|"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Build(loadYAML(t, fmt.Sprintf(starAndNames, tc.other)), ingress)
			if err != nil {
				t.Fatal(err)
			}
			l := p.Listeners[0]
			got := map[string]string{}
			byMatch := map[string]string{}
			for _, c := range l.Chains {
				m := chainMatch(c)
				if prev, dup := byMatch[m]; dup {
					t.Errorf("chains %s and %s have one filter_chain_match %q", prev, c.Name, m)
				}
				byMatch[m] = c.Name
				got[c.Name] = m
			}
			if d := cmp.Diff(tc.chains, got); d != "" {
				t.Errorf("chains (-want +got):\n%s", d)
			}
			if tc.inspect && !l.TLSInspector {
				t.Error("no tls_inspector on a listener whose chains match by server name")
			}
			i := slices.IndexFunc(l.Chains, func(c *ir.Chain) bool { return c.Name == "443/gw.gw.mtls" })
			j := slices.IndexFunc(l.Chains, func(c *ir.Chain) bool { return c.Name == "443/gw.gw.mtls/any-sni" })
			if j < 0 {
				return
			}
			named, anySNI := *l.Chains[i], *l.Chains[j]
			named.Name, named.ServerNames = anySNI.Name, nil
			if d := cmp.Diff(named, anySNI); d != "" {
				t.Errorf("the any-SNI chain differs from the named one beyond name and server names (-named +any):\n%s", d)
			}
		})
	}
}

// TestSNIOwnerStarToo: a server with "*" besides its names owns both.
func TestSNIOwnerStarToo(t *testing.T) {
	mtls := &chainInfo{chain: &ir.Chain{Name: "mtls", ServerNames: []string{"*.mtls.example.com"}}, starToo: true}
	public := &chainInfo{chain: &ir.Chain{Name: "public", ServerNames: []string{"*.example.com"}}}
	owners := newSNIOwners([]*chainInfo{mtls, public})
	for name, want := range map[string]*chainInfo{"api.mtls.example.com": mtls, "www.example.com": public, "other.org": mtls, "*": mtls} {
		if got := owners.owner(name); got != want {
			t.Errorf("owner(%q) = %v, want %s", name, got, want.chain.Name)
		}
	}
}
