package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// prefixDir holds configurations with the resources trustgate made for
// them before the fixes of the security issue, frozen.
var prefixDir = filepath.Join("..", "..", "xds", "envoymodel", "props", "testdata", "prefix")

// TestCheckPropertyViolations feeds `check`'s property run the pre-fix
// resources of three defects in place of today's compile: each violation is
// an error at the Gateway server it concerns (file:line), with the
// connection and request that show it, in text and JSON.
func TestCheckPropertyViolations(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	cases := map[string]struct {
		want []string // in one error's text
		line int      // of the server, in the configuration file
	}{
		"host-bypass": {line: 14, want: []string{"Gateway edge/shared: spec.servers[1]: security property P1 mutual fails for host \"admin.example.com\" (proxy group istio=ingressgateway)",
			"connection: port 443, SNI w1.example.com, certificate none", "request: GET / Host admin.example.com", "got routed to outbound|8080||admin.internal"}},
		"plaintext-port": {line: 13, want: []string{"Gateway edge/gw: spec.servers[1]: security property P2 identity", "connection: port 80, plaintext", "x-client-subject: forged-by-client",
			"want the client's x-client-subject removed"}},
		"allow-hides-421": {line: 9, want: []string{"Gateway edge/gw: spec.servers[0]: security property P5 rejection", "certificate none", "Host portal.example.com", "got denied 403", "want the configured rejection 400"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".yaml")
			src, err := os.ReadFile(filepath.Join(prefixDir, name+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, p.Expand(t, src, true), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{p.Dir}}, compile.WithExpiryWarning(0))
			if err != nil {
				t.Fatal(err)
			}
			frozen := envoymodeltest.LoadFixture(t, p, filepath.Join(prefixDir, name+".fixture.yaml"))
			preFix := func(map[string]string) (*envoymodel.Resources, error) {
				return frozen, nil
			}
			r := &report{Findings: []finding{}}
			addPropertyFindings(r, cfg, preFix, p.Now)
			if r.Errors == 0 {
				t.Fatalf("no error; findings: %+v", r.Findings)
			}
			f, ok := findingWith(r, tc.want)
			if !ok {
				t.Fatalf("no error with %q; findings:\n%s", tc.want, render(t, "text", r))
			}
			if where := fmt.Sprintf("%s:%d: ", path, tc.line); !strings.HasPrefix(f.Text, where) {
				t.Errorf("error does not start with %q: %s", where, f.Text)
			}
			var doc struct{ Findings []map[string]any }
			if err := json.Unmarshal([]byte(render(t, "json", r)), &doc); err != nil {
				t.Fatal(err)
			}
			prop, _ := doc.Findings[0]["property"].(map[string]any)
			for _, k := range []string{"property", "connection", "request", "got", "want", "gateway", "serverIndex", "server", "host", "proxyGroup", "file", "line"} {
				if _, ok := prop[k]; !ok {
					t.Errorf("JSON finding lacks property.%s: %v", k, doc.Findings[0])
				}
			}
			if !strings.Contains(render(t, "text", r), "error: "+f.Text) {
				t.Errorf("the text report does not show %q", f.Text)
			}
		})
	}
}

// findingWith is the first error that contains every string.
func findingWith(r *report, want []string) (finding, bool) {
	for _, f := range r.Findings {
		ok := f.Severity == "error" && f.Property != nil
		for _, w := range want {
			ok = ok && strings.Contains(f.Text, w)
		}
		if ok {
			return f, true
		}
	}
	return finding{}, false
}

// render writes a report.
func render(t *testing.T, format string, r *report) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeReport(&b, format, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCheckPropertiesClean: `check` on a clean MUTUAL gateway runs the
// properties and exits 0.
func TestCheckPropertiesClean(t *testing.T) {
	cfg, secrets := cliFixture(t, "app.example.com")
	code, out, errOut := runCapture("check", "--config", cfg, "--secrets-dir", secrets)
	if code != 0 || !strings.Contains(out, "0 error(s)") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCheckLargeConfig runs `check` on a generated gateway of 200 hosts
// (per-host client CAs, CRLs, policies of both kinds, OPTIONAL_MUTUAL
// rejections, a plaintext redirect): every property holds. It logs how long
// it took and how many connections and requests the properties explain;
// with TRUSTGATE_LARGE_CONFIG_DIR set, the configuration is written there
// and kept, to time the binary on it (docs/properties.md).
func TestCheckLargeConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and checks 200 hosts")
	}
	const n = 200
	dir := os.Getenv("TRUSTGATE_LARGE_CONFIG_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	secrets := filepath.Join(dir, "secrets")
	writeLargeConfig(t, dir, secrets, n)
	start := time.Now()
	code, out, errOut := runCapture("check", "--config", filepath.Join(dir, "config"), "--secrets-dir", secrets)
	elapsed := time.Since(start)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cfg, err := compile.Load(model.LoadOptions{Paths: []string{filepath.Join(dir, "config")}, SecretsDirs: []string{secrets}})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	probes := 0
	for _, labels := range cfg.Selectors() {
		res, err := cfg.Compile(labels)
		if err != nil {
			t.Fatal(err)
		}
		r, err := props.Run(cfg.Model(), labels, envoymodeltest.FromTranslate(res), props.Bounded().With(nil, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		probes += r.Probes
	}
	t.Logf("check on %d hosts: %v in all; the properties alone: %d probes in %v", n, elapsed.Round(time.Millisecond), probes, time.Since(start).Round(time.Millisecond))
}

// writeLargeConfig writes dir/config/gateway.yaml with n hosts and the
// secrets it names.
func writeLargeConfig(t *testing.T, dir, secrets string, n int) {
	t.Helper()
	if err := certs.Init(secrets, certs.InitOptions{Intermediate: true}); err != nil {
		t.Fatal(err)
	}
	hosts := []string{"*.example.com"}
	for i := 19; i < n; i += 20 {
		hosts = append(hosts, fmt.Sprintf("*.w%d.example.com", i))
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: hosts}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindClient, certs.IssueOptions{Name: "gone", CommonName: "gone"}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Revoke(secrets, "gone", time.Now()); err != nil {
		t.Fatal(err)
	}
	for k := 1; k < 5; k++ { // four more client CAs, as CA-only secrets
		other := filepath.Join(dir, fmt.Sprintf("pki-%d", k))
		if err := certs.Init(other, certs.InitOptions{CommonName: fmt.Sprintf("Team %d CA", k)}); err != nil {
			t.Fatal(err)
		}
		ca, err := os.ReadFile(filepath.Join(other, certs.DefaultCASecretName, "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(secrets, fmt.Sprintf("ca-%d", k)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(secrets, fmt.Sprintf("ca-%d", k), "ca.crt"), ca, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: big, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n")
	b.WriteString("  - name: plain\n    port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*.example.com\"]\n    tls: {httpsRedirect: true}\n")
	for i := 0; i < n; i++ {
		mode, ca := "MUTUAL", certs.DefaultCASecretName
		if i%4 == 3 {
			mode = "OPTIONAL_MUTUAL"
		}
		if i%5 != 0 {
			ca = fmt.Sprintf("ca-%d", i%5)
		}
		host := fmt.Sprintf("h%d.example.com", i)
		if i%20 == 19 {
			host = fmt.Sprintf("*.w%d.example.com", i)
		}
		fmt.Fprintf(&b, "  - name: s%d\n    port: {number: 443, name: https-%d, protocol: HTTPS}\n    hosts: [%q]\n    tls: {mode: %s, credentialName: gw, caCertCredentialName: %s}\n", i, i, host, mode, ca)
	}
	for i := 0; i < n; i++ {
		host := fmt.Sprintf("h%d.example.com", i)
		if i%20 == 19 {
			host = fmt.Sprintf("*.w%d.example.com", i)
		}
		fmt.Fprintf(&b, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: app-%d, namespace: edge}\nspec:\n  hosts: [%q]\n  gateways: [big]\n  http:\n  - route: [{destination: {host: app%d.internal, port: {number: 8080}}}]\n", i, host, i)
		b.WriteString("    headers: {request: {set: {x-client-dn: \"%DOWNSTREAM_PEER_SUBJECT%\"}}}\n")
		if i%5 == 0 {
			fmt.Fprintf(&b, "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: team-%d, namespace: edge}\nspec:\n  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: big}\n  action: ALLOW\n  rules:\n  - from: [{source: {principals: [\"spiffe://example.com/team-%d/*\"]}}]\n    to: [{operation: {hosts: [%q]}}]\n  - to: [{operation: {hosts: [\"h%d.example.com\"]}}]\n", i, i, host, i+1)
		}
		{
			fmt.Fprintf(&b, "---\napiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: p-%d, namespace: edge}\nspec:\n  targetRef: {kind: Gateway, name: big, sectionName: s%d}\n  verifyDepth: 1\n  identityHeaders: {subject: x-client-subject}\n", i, i)
			if i%7 == 0 {
				b.WriteString("  authorization:\n    deny: [{name: blocked, commonName: [{exact: blocked.example.com}]}]\n")
			}
			if i%4 == 3 {
				b.WriteString("  rejection: {status: 401, body: \"certificate required\\n\"}\n")
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "gateway.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// crossHostHeader is two MUTUAL hosts of one port; one VirtualService fills
// x-client-dn from the client certificate, the other host's does not.
const crossHostHeader = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: a
    port: {number: 443, name: https-a, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: MUTUAL, credentialName: gw}
  - name: b
    port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: MUTUAL, credentialName: gw}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: edge}
spec:
  hosts: [a.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: a.internal, port: {number: 8080}}}]
    headers: {request: {set: {x-client-dn: "%DOWNSTREAM_PEER_SUBJECT%"}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: edge}
spec:
  hosts: [b.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: b.internal, port: {number: 8080}}}]
`

// TestCheckIdentityHeaderOnAnotherHost is the regression test of P2 as
// issue 12 states it ("no client-sent value of an identity header,
// configured or derived, reaches a backend"): a.example.com's
// VirtualService fills x-client-dn from the certificate, and a client of
// b.example.com (another server, another route configuration, another
// backend) sends its own x-client-dn. Every forwarding virtual host of the
// proxy removes it (xds/irbuild/build_identity_strip.go), so check runs
// the properties and exits 0.
func TestCheckIdentityHeaderOnAnotherHost(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"a.example.com", "b.example.com"}}); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfg, []byte(crossHostHeader), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCapture("check", "--config", cfg, "--secrets-dir", secrets)
	if code != 0 || !strings.Contains(out, "0 error(s)") || strings.Contains(out, "security propert") {
		t.Fatalf("exit %d, want 0 with no property finding\n%s\n%s", code, out, errOut)
	}
}

// TestCheckPropertiesPinned: on a server that pins client certificates no
// client of check's making can pass, so check warns that what a valid
// client reaches there was not probed, and exits 0.
func TestCheckPropertiesPinned(t *testing.T) {
	cfg, secrets := cliFixture(t, "app.example.com")
	pin := "---\napiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: pin, namespace: edge}\nspec:\n" +
		"  targetRef: {kind: Gateway, name: gw}\n  verifyCertificateHash: [\"df6ff72fe9116521268f6f2dd4966f51df479883fe7037b39f75916ac3049d1a\"]\n"
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(pin); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCapture("check", "--config", cfg, "--secrets-dir", secrets)
	want := "warning: " + cfg + ":7: Gateway edge/gw: spec.servers[0]: security properties (proxy group istio=ingressgateway): no client certificate passes this server's validation, because it pins client certificates"
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want 0 with %q\n%s\n%s", code, want, out, errOut)
	}
}

// starServerWithNames is a MUTUAL server for "*.mtls.example.com" and "*",
// and a SIMPLE server for "*.example.com" on the same port.
const starServerWithNames = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: mtls
    port: {number: 443, name: https-mtls, protocol: HTTPS}
    hosts: ["*.mtls.example.com", "*"]
    tls: {mode: MUTUAL, credentialName: gw}
  - name: public
    port: {number: 443, name: https-public, protocol: HTTPS}
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: gw}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: internal, namespace: edge}
spec:
  hosts: ["api.mtls.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: internal.svc, port: {number: 8080}}}]
`

// TestCheckStarServerWithNames is the regression test of a server whose
// hosts are "*" and other names (FuzzGeneratedGateway found it): its
// filter chain used to match no server name, so SNI api.mtls.example.com
// landed on the SIMPLE server's "*.example.com" chain (Envoy prefers any
// server-name match over the catch-all), whose route configuration routed
// the host without a certificate (P1, P4). The MUTUAL server now also
// claims its named hosts by SNI, so check runs the properties and exits 0.
func TestCheckStarServerWithNames(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"*.example.com", "*.mtls.example.com"}}); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfg, []byte(starServerWithNames), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCapture("check", "--config", cfg, "--secrets-dir", secrets)
	if code != 0 || !strings.Contains(out, "0 error(s)") || strings.Contains(out, "security propert") {
		t.Fatalf("exit %d, want 0 with no property finding\n%s\n%s", code, out, errOut)
	}
}
