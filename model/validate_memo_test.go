package model

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// memoStep is one load of TestValidateMemo: the files that change (an
// empty text removes the file), and how many objects the memo must have
// taken from an earlier load, at least.
type memoStep struct {
	name    string
	files   map[string]string
	minHits int
}

// TestValidateMemo loads a configuration, changes what each memoised check
// reads besides its object, and checks every load's ValidateWith through
// one Cache against Validate without it: the same errors, file:line
// included. Every step's errors differ from the step before (the change is
// one the checks see), and the unchanged objects come from the memo.
func TestValidateMemo(t *testing.T) {
	p := getPKI(t)
	gatewayMode := func(name, s2Mode string) string {
		return "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: " + name + ", namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n" +
			"  - name: s1\n    port: {number: 443, name: s1, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: {mode: MUTUAL, credentialName: gw-cred}\n" +
			"  - name: s2\n    port: {number: 8443, name: s2, protocol: HTTPS}\n    hosts: [b.example.com]\n    tls: {mode: " + s2Mode + ", credentialName: simple-cred}\n" +
			"  - name: s3\n    port: {number: 9443, name: s3, protocol: HTTPS}\n    hosts: [c.example.com]\n    tls: {mode: SIMPLE, serverCertificate: ../certs/server.pem, privateKey: ../certs/key.pem}\n"
	}
	gateway := func(name string) string { return gatewayMode(name, "MUTUAL") }
	vs := "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: edge}\nspec:\n  hosts: [a.example.com]\n  gateways: [gw]\n" +
		"  http:\n  - route: [{destination: {host: x.internal}}]\n"
	// badVS has an error of its own, at a line that moves in "moved".
	badVS := "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: bad, namespace: edge}\nspec:\n  hosts: [b.example.com]\n  gateways: [gw]\n" +
		"  http:\n  - match: [{uri: {regex: \"a(b\"}}]\n    route: [{destination: {host: x.internal}}]\n"
	ap := "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap, namespace: edge}\nspec:\n  targetRef: {kind: Gateway, group: networking.istio.io, name: gw}\n  rules: [{}]\n"
	dr := "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: edge}\nspec:\n  host: x.internal\n  trafficPolicy:\n    tls: {mode: SIMPLE, credentialName: backend-ca}\n"
	policy := func(name string) string {
		return "apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: " + name + ", namespace: edge}\nspec:\n  targetRef: {kind: Gateway, name: gw, sectionName: s2}\n  clientCA: client-ca\n"
	}
	ccp := policy("p")
	secrets := func(without string, caFor ...string) string {
		var docs []string
		for _, s := range []struct {
			name string
			kv   map[string][]byte
		}{
			{"gw-cred", map[string][]byte{"tls.crt": p.Cert, "tls.key": p.Key, "ca.crt": p.CA}},
			{"simple-cred", map[string][]byte{"tls.crt": p.Cert, "tls.key": p.Key}},
			{"client-ca", map[string][]byte{"ca.crt": p.CA}},
			{"backend-ca", map[string][]byte{"ca.crt": p.CA}},
		} {
			if slices.Contains(caFor, s.name) {
				s.kv["ca.crt"] = p.CA
			}
			if s.name != without {
				docs = append(docs, secretDoc("edge", s.name, s.kv))
			}
		}
		return strings.Join(docs, "---\n")
	}
	steps := []memoStep{
		{name: "first", files: map[string]string{
			"conf/gw.yaml": gateway("gw"), "conf/vs.yaml": vs + "---\n" + badVS, "conf/ap.yaml": ap, "conf/dr.yaml": dr,
			"conf/secrets.yaml": secrets(""), "certs/server.pem": string(p.Cert), "certs/key.pem": string(p.Key),
		}},
		// VirtualServices and AuthorizationPolicies read the Gateways' names.
		{name: "Gateway renamed", files: map[string]string{"conf/gw.yaml": gateway("gw2")}, minHits: 6},
		{name: "Gateway back", files: map[string]string{"conf/gw.yaml": gateway("gw")}, minHits: 6},
		// Gateways read the Secrets...
		{name: "a Gateway's secret removed", files: map[string]string{"conf/secrets.yaml": secrets("gw-cred")}, minHits: 3},
		{name: "the secret back", files: map[string]string{"conf/secrets.yaml": secrets("")}, minHits: 3},
		{name: "a secret's content changes", files: map[string]string{"conf/secrets.yaml": secrets("", "simple-cred")}, minHits: 3},
		{name: "and back", files: map[string]string{"conf/secrets.yaml": secrets("")}, minHits: 3},
		// ... which ClientCertificatePolicies give a server a client CA ...
		{name: "a policy gives s2 a client CA", files: map[string]string{"conf/ccp.yaml": ccp}, minHits: 7},
		// ... and the files they name.
		{name: "a certificate file broken", files: map[string]string{"certs/server.pem": "not PEM\n"}, minHits: 7},
		{name: "the file mended", files: map[string]string{"certs/server.pem": string(p.Cert)}, minHits: 7},
		// ClientCertificatePolicies read their target Gateway, the
		// Gateways' names and the credentials.
		{name: "the policy's Gateway edited", files: map[string]string{"conf/gw.yaml": gatewayMode("gw", "SIMPLE")}, minHits: 7},
		{name: "the Gateway as it was", files: map[string]string{"conf/gw.yaml": gateway("gw")}, minHits: 7},
		{name: "the policy's Gateway renamed", files: map[string]string{"conf/gw.yaml": gateway("gw2")}, minHits: 6},
		{name: "the Gateway back again", files: map[string]string{"conf/gw.yaml": gateway("gw")}, minHits: 6},
		{name: "the policy's clientCA removed", files: map[string]string{"conf/secrets.yaml": secrets("client-ca")}, minHits: 3},
		{name: "the clientCA back", files: map[string]string{"conf/secrets.yaml": secrets("")}, minHits: 3},
		// Two policies on one section: checked across policies, every load.
		{name: "a second policy on s2", files: map[string]string{"conf/ccp.yaml": ccp + "---\n" + policy("q")}, minHits: 8},
		// DestinationRules read the Secrets.
		{name: "a DestinationRule's secret removed", files: map[string]string{"conf/secrets.yaml": secrets("backend-ca")}, minHits: 4},
		// A document that moved is a new object at its new line.
		{name: "moved", files: map[string]string{"conf/vs.yaml": vs + "---\n# moved\n# down\n" + badVS}, minHits: 8},
		{name: "policy removed", files: map[string]string{"conf/ccp.yaml": ""}, minHits: 8},
	}
	dir := t.TempDir()
	opts := LoadOptions{Paths: []string{filepath.Join(dir, "conf")}}
	cache := NewCache()
	var last []string
	for i, step := range steps {
		for name, text := range step.files {
			path := filepath.Join(dir, name)
			if text == "" {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				continue
			}
			writeFiles(t, dir, map[string]string{name: text})
		}
		cfg, err := LoadWith(opts, cache)
		if err != nil {
			t.Fatalf("%s: Load: %v", step.name, err)
		}
		before := cache.ValidationStats().Hits
		got := errorLines(cfg.ValidateWith(cache), dir)
		hits := cache.ValidationStats().Hits - before
		want := errorLines(cfg.Validate(), dir)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s: errors with the memo (-without +with):\n%s", step.name, d)
		}
		if i > 0 && slices.Equal(got, last) {
			t.Errorf("%s: the errors are those of the step before; the change tests nothing:\n%s", step.name, strings.Join(got, "\n"))
		}
		if hits < step.minHits {
			t.Errorf("%s: %d objects from the memo, want at least %d", step.name, hits, step.minHits)
		}
		last = got
		cache.Commit()
	}
}
