package compile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/irbuild"
	"github.com/trustgate/trustgate/xds/translate"
)

// isolationCase is one generated gateway: TLS servers on port 443, one of
// them (mtls) MUTUAL or OPTIONAL_MUTUAL with identity headers and the others
// SIMPLE, optionally a plaintext server "*" on port 80, and one
// VirtualService bound to every server.
type isolationCase struct {
	serverHosts []string
	mtls        int      // index of the client-certificate server
	vsHosts     []string // the VirtualService's hosts
	optional    bool     // the mtls server is OPTIONAL_MUTUAL with a rejection
	authority   bool     // a first route picks an admin backend by :authority
	plain       bool     // a plaintext server "*" on port 80
	allow       bool     // an ALLOW AuthorizationPolicy governs every chain
}

func (c isolationCase) String() string {
	return fmt.Sprintf("servers=%v mtls=%d vs=%v optional=%v authority=%v plain=%v allow=%v",
		c.serverHosts, c.mtls, c.vsHosts, c.optional, c.authority, c.plain, c.allow)
}

// Host pools: exact names, wildcards, a wildcard inside another, and "*".
var (
	serverHostPool = []string{"*", "*.example.com", "admin.example.com", "*.admin.example.com", "api.admin.example.com"}
	vsHostPool     = []string{"*", "*.example.com", "admin.example.com", "*.admin.example.com", "api.admin.example.com", "www.example.com"}
	// probeNames are the SNI names and Host names tried on every case.
	probeNames = []string{"admin.example.com", "www.example.com", "api.admin.example.com", "x.admin.example.com",
		"x.api.admin.example.com", "a.b.example.com", "example.com", "other.org"}
)

// subsets are the subsets of pool with between lo and hi elements, in pool
// order.
func subsets(pool []string, lo, hi int) [][]string {
	var out [][]string
	for mask := 1; mask < 1<<len(pool); mask++ {
		var s []string
		for i, p := range pool {
			if mask&(1<<i) != 0 {
				s = append(s, p)
			}
		}
		if len(s) >= lo && len(s) <= hi {
			out = append(out, s)
		}
	}
	return out
}

// isolationCases enumerates every pair of server sets and VirtualService
// host sets; the other switches take every combination across the cases
// (bits of a counter), so each appears with every kind of host mix.
func isolationCases() []isolationCase {
	var out []isolationCase
	n := 0
	for _, servers := range subsets(serverHostPool, 2, 3) {
		for _, hosts := range subsets(vsHostPool, 1, 2) {
			out = append(out, isolationCase{
				serverHosts: servers, mtls: n % len(servers), vsHosts: hosts,
				authority: n&1 != 0, plain: n&2 != 0, optional: n&4 != 0, allow: n&8 != 0,
			})
			n++
		}
	}
	return out
}

// yaml renders the case; its certificates are the golden PKI's.
func (c isolationCase) yaml() string {
	var y strings.Builder
	y.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: gw}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n")
	for i, h := range c.serverHosts {
		tls := "mode: SIMPLE, credentialName: server"
		if i == c.mtls {
			mode := map[bool]string{false: "MUTUAL", true: "OPTIONAL_MUTUAL"}[c.optional]
			tls = "mode: " + mode + ", credentialName: server, caCertCredentialName: client-ca"
		}
		fmt.Fprintf(&y, "  - name: s%d\n    port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [%q]\n    tls: {%s}\n", i, h, tls)
	}
	if c.plain {
		y.WriteString("  - name: plain\n    port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n")
	}
	fmt.Fprintf(&y, "---\napiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: mtls, namespace: gw}\nspec:\n  targetRef: {kind: Gateway, name: gw, sectionName: s%d}\n  identityHeaders: {subject: x-client-subject, ingressNginx: true}\n", c.mtls)
	if c.optional {
		y.WriteString("  rejection: {status: 400}\n")
	}
	quoted := make([]string, len(c.vsHosts))
	for i, h := range c.vsHosts {
		quoted[i] = fmt.Sprintf("%q", h)
	}
	fmt.Fprintf(&y, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: app, namespace: apps}\nspec:\n  hosts: [%s]\n  gateways: [gw/gw]\n  http:\n", strings.Join(quoted, ", "))
	if c.authority {
		y.WriteString("  - match: [{authority: {exact: admin.example.com}}]\n    route: [{destination: {host: admin.apps.svc.cluster.local, port: {number: 8080}}}]\n" +
			"    headers: {request: {set: {x-peer-uri: \"%DOWNSTREAM_PEER_URI_SAN%\"}}}\n")
	}
	y.WriteString("  - route:\n    - destination: {host: web.apps.svc.cluster.local, port: {number: 8080}}\n      weight: 90\n" +
		"      headers: {request: {add: {x-peer-dns: \"%DOWNSTREAM_PEER_DNS_SAN%\"}}}\n" +
		"    - destination: {host: canary.apps.svc.cluster.local, port: {number: 8080}}\n      weight: 10\n")
	if c.allow {
		y.WriteString("---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: team, namespace: gw}\nspec:\n  targetRef: {kind: Gateway, name: gw}\n" +
			"  rules: [{from: [{source: {principals: [\"spiffe://example.com/team\"]}}]}]\n")
	}
	return y.String()
}

// translateCase loads, validates, builds and translates the case.
func (c isolationCase) translate(t *testing.T) *translate.Resources {
	t.Helper()
	path := filepath.Join(t.TempDir(), "case.yaml")
	if err := os.WriteFile(path, []byte(c.yaml()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := model.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{goldenPKI(t).Dir}})
	if err != nil {
		t.Fatalf("%v: load: %v", c, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%v: validate: %v", c, err)
	}
	p, err := irbuild.Build(cfg, irbuild.Node{ID: "test", Labels: map[string]string{"istio": "ingressgateway"}})
	if err != nil {
		t.Fatalf("%v: build: %v", c, err)
	}
	res, err := translate.Translate(p)
	if err != nil {
		t.Fatalf("%v: translate: %v", c, err)
	}
	return res
}

// covers reports whether host pattern p admits name (a name or a pattern):
// "*" everything, "*.a.com" whatever ends in ".a.com".
func covers(p, name string) bool {
	return p == "*" || p == name || (strings.HasPrefix(p, "*.") && strings.HasSuffix(name, p[1:]) && len(name) > len(p)-1)
}

// hostVariants are the spellings of a Host that Envoy must treat as name:
// any case, with a port, with a trailing dot.
func hostVariants(name string) []string {
	return []string{name, strings.ToUpper(name), name + ":443", name + ":8443", name + ".", name + ".:443"}
}

// TestHostIsolation checks, for every generated mix of exact, wildcard and
// "*" servers, VirtualService hosts and :authority matches, what Envoy would
// do with each SNI and each spelling of each Host: a request routes to a
// backend only on the chain that SNI would pick for its Host; elsewhere it
// gets a virtual host that forwards nothing (the 421). Where the chain does
// own the Host and the VirtualService covers it, the request routes, so the
// check cannot pass by refusing everything.
func TestHostIsolation(t *testing.T) {
	cases := isolationCases()
	failures := 0
	for _, c := range cases {
		v := newEnvoyView(c.translate(t))
		for _, sni := range append([]string{""}, probeNames...) {
			fc := v.chain(443, sni)
			if fc == nil {
				continue
			}
			h, rc := v.routeConfig(t, fc)
			for _, name := range probeNames {
				owner := v.chain(443, name)
				for _, host := range hostVariants(name) {
					vh := virtualHost(h, rc, host)
					routes := vh != nil && forwards(vh)
					switch {
					case owner != fc && routes:
						failures++
						t.Errorf("%v\n  SNI %q lands on %s, whose virtual host %s routes Host %q; that host belongs to %s", c, sni, fc.GetName(), vh.GetName(), host, owner.GetName())
					case owner == fc && servedBy(fc, c.vsHosts, name) && !routes:
						failures++
						t.Errorf("%v\n  SNI %q lands on %s, which serves %q, but Host %q is not routed (virtual host %s)", c, sni, fc.GetName(), name, host, vh.GetName())
					}
					if failures > 20 {
						t.Fatal("too many failures")
					}
				}
			}
		}
	}
	t.Logf("%d cases", len(cases))
}

// servedBy reports whether chain fc's server and the VirtualService both
// cover name.
func servedBy(fc *listenerv3.FilterChain, vsHosts []string, name string) bool {
	names := fc.GetFilterChainMatch().GetServerNames()
	if len(names) == 0 {
		names = []string{"*"}
	}
	return slices.ContainsFunc(names, func(p string) bool { return covers(p, name) }) &&
		slices.ContainsFunc(vsHosts, func(p string) bool { return covers(p, name) })
}
