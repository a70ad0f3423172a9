package compile_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// namedState is a configuration with one of every input a proxy group's
// build reads: two Gateways sharing port 443, VirtualServices, a
// DestinationRule and a ServiceEntry their routes use, a
// ClientCertificatePolicy, an AuthorizationPolicy selecting the gateway and
// the secrets. Each field is what one named edit changes.
type namedState struct {
	gwName      string // the first Gateway's name (its VirtualServices follow)
	selector    string // the first Gateway's istio label
	routeRev    int    // h0's route prefix
	drRev       int    // the DestinationRule's connection limit
	seRev       int    // the ServiceEntry's endpoint address
	policyDepth int    // the ClientCertificatePolicy's verifyDepth
	authzRev    int    // the AuthorizationPolicy's denied path
	overlap     bool   // a second Gateway's server on 443 also naming h1
	badRegex    bool   // h2's route has an invalid regex (a load error)
	hosts       int    // servers of the first Gateway
}

func (s *namedState) render(t *testing.T, path string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: %s, namespace: edge}\nspec:\n  selector: {istio: %s}\n  servers:\n", s.gwName, s.selector)
	for i := range s.hosts {
		fmt.Fprintf(&b, "  - name: h%d\n    port: {number: 443, name: https-%d, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: server, caCertCredentialName: client-ca}\n", i, i, i)
	}
	b.WriteString("---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: other, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n")
	b.WriteString("  - name: o\n    port: {number: 443, name: https-o, protocol: HTTPS}\n    hosts: [o.example.com]\n    tls: {mode: SIMPLE, credentialName: server}\n")
	if s.overlap {
		b.WriteString("  - name: over\n    port: {number: 443, name: https-over, protocol: HTTPS}\n    hosts: [\"*.example.com\"]\n    tls: {mode: SIMPLE, credentialName: server}\n")
	}
	b.WriteString("---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: o, namespace: edge}\nspec:\n  hosts: [o.example.com, h1.example.com]\n  gateways: [other]\n  http:\n  - route: [{destination: {host: web.internal, port: {number: 8080}}}]\n")
	for i := range s.hosts {
		fmt.Fprintf(&b, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h%d, namespace: edge}\nspec:\n  hosts: [h%d.example.com]\n  gateways: [%s]\n  http:\n", i, i, s.gwName)
		switch {
		case i == 0:
			fmt.Fprintf(&b, "  - match: [{uri: {prefix: /r%d}}]\n    route: [{destination: {host: web.internal, port: {number: 8080}}}]\n", s.routeRev)
		case i == 2 && s.badRegex:
			b.WriteString("  - match: [{uri: {regex: \"a(b\"}}]\n    route: [{destination: {host: web.internal, port: {number: 8080}}}]\n")
		}
		b.WriteString("  - route: [{destination: {host: ext.internal, port: {number: 9000}}}]\n")
	}
	fmt.Fprintf(&b, "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web, namespace: edge}\nspec:\n  host: web.internal\n  trafficPolicy:\n    connectionPool: {tcp: {maxConnections: %d}}\n", 100+s.drRev)
	fmt.Fprintf(&b, "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: edge}\nspec:\n  hosts: [ext.internal]\n  ports: [{number: 9000, name: http, protocol: HTTP}]\n  resolution: STATIC\n  location: MESH_INTERNAL\n  endpoints: [{address: 10.1.0.%d}]\n", 10+s.seRev)
	fmt.Fprintf(&b, "---\napiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: p, namespace: edge}\nspec:\n  targetRef: {kind: Gateway, name: %s, sectionName: h0}\n  verifyDepth: %d\n", s.gwName, s.policyDepth)
	fmt.Fprintf(&b, "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny, namespace: edge}\nspec:\n  selector:\n    matchLabels: {istio: ingressgateway}\n  action: DENY\n  rules:\n  - to:\n    - operation: {paths: [\"/admin%d/*\"]}\n", s.authzRev)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// namedEdit changes one input of namedState (or a secret on disk).
type namedEdit struct {
	name string
	do   func(t *testing.T, s *namedState, secrets string, now time.Time)
}

var namedEdits = []namedEdit{
	{"edit a route", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.routeRev++ }},
	{"edit the DestinationRule a route uses", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.drRev++ }},
	{"rotate a secret", func(t *testing.T, _ *namedState, secrets string, now time.Time) {
		if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "server", Hosts: []string{"*.example.com"}, Replace: true, Now: now}); err != nil {
			t.Fatal(err)
		}
	}},
	{"edit the cert policy", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.policyDepth = 1 + (s.policyDepth+1)%4 }},
	{"edit the AuthorizationPolicy", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.authzRev++ }},
	{"add or remove an overlapping server on the port", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.overlap = !s.overlap }},
	{"rename the gateway", func(_ *testing.T, s *namedState, _ string, _ time.Time) {
		s.gwName = map[string]string{"gw": "gw2", "gw2": "gw"}[s.gwName]
	}},
	{"change the gateway's selector", func(_ *testing.T, s *namedState, _ string, _ time.Time) {
		s.selector = map[string]string{"ingressgateway": "canary", "canary": "ingressgateway"}[s.selector]
	}},
	{"edit the ServiceEntry", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.seRev++ }},
	{"make the config invalid (valid again at the next edit)", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.badRegex = true }},
	{"add or remove a server", func(_ *testing.T, s *namedState, _ string, _ time.Time) { s.hosts = 3 + (s.hosts-2)%3 }},
}

// TestIncrementalNamedEdits applies each named edit in turn, then random
// sequences of them, and checks after each that a load through a cache held
// across all of them gives exactly what a load without one gives: errors,
// warnings and findings, and every resource and version of both proxy
// groups (sameConfig).
func TestIncrementalNamedEdits(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 17))
			order := make([]int, 0, 80)
			for i := range namedEdits {
				order = append(order, i) // each named edit once, in order
			}
			for range 50 {
				order = append(order, r.IntN(len(namedEdits)))
			}
			good, bad := runNamedEdits(t, order)
			t.Logf("%d good loads, %d failed", good, bad)
			if good < 20 || bad < 2 {
				t.Errorf("the edits exercised too little: %d good loads, %d failed", good, bad)
			}
		})
	}
}

// FuzzIncrementalNamedEdits is TestIncrementalNamedEdits with the sequence
// of edits chosen by the fuzzer (each byte one edit).
func FuzzIncrementalNamedEdits(f *testing.F) {
	all := make([]byte, len(namedEdits))
	for i := range all {
		all[i] = byte(i)
	}
	f.Add(all)
	f.Add([]byte{6, 6, 7, 0, 5, 5, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 16 {
			ops = ops[:16] // each step is two loads
		}
		order := make([]int, len(ops))
		for i, op := range ops {
			order[i] = int(op) % len(namedEdits)
		}
		runNamedEdits(t, order)
	})
}

// runNamedEdits loads namedState's configuration, then after each edit of
// order, with a cache held across the loads and without one, and fails
// unless both give the same; it returns how many loads succeeded and failed.
func runNamedEdits(t *testing.T, order []int) (good, bad int) {
	t.Helper()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	root := t.TempDir()
	path, secrets := filepath.Join(root, "config.yaml"), filepath.Join(root, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{CRL: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "server", Hosts: []string{"*.example.com"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	s := &namedState{gwName: "gw", selector: "ingressgateway", policyDepth: 2, hosts: 3}
	opts := model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secrets}}
	clock := compile.WithClock(func() time.Time { return now.Add(time.Hour) })
	cache := compile.NewCache()
	what := "first load"
	for step := 0; ; step++ {
		s.render(t, path)
		if loadBoth(t, fmt.Sprintf("step %d (%s)", step, what), opts, clock, cache) {
			good++
		} else {
			bad++
		}
		if step == len(order) {
			return good, bad
		}
		e := namedEdits[order[step]]
		now = now.Add(time.Minute)
		s.badRegex = false // an invalid load, valid again at the next edit
		e.do(t, s, secrets, now)
		what = e.name
	}
}
