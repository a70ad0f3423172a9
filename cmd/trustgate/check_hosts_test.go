package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/certs"
)

// hostsGateway is an mTLS server for admin.example.com and a second server
// (%s) on the same Gateway, with a VirtualService binding admin.example.com
// to both and extra documents (%s).
const hostsGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: admin
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: [admin.example.com]
    tls: {mode: MUTUAL, credentialName: gw, caCertCredentialName: client-ca}
  - name: other
%s
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: admin, namespace: edge}
spec:
  hosts: [admin.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: admin.internal, port: {number: 8080}}}]
%s`

// TestCheckHostExposure runs `check` on the two ways around a MUTUAL host
// that the build reports: a passthrough route taking its SNI (an error
// naming both servers) and a plaintext server routing it (a warning naming
// the fix).
func TestCheckHostExposure(t *testing.T) {
	cases := map[string]struct {
		other, extra string
		code         int
		want         []string
	}{
		"passthrough takes over the mTLS host": {
			other: "    port: {number: 443, name: tls, protocol: TLS}\n    hosts: [\"*.example.com\"]\n    tls: {mode: PASSTHROUGH}",
			extra: "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: db, namespace: edge}\nspec:\n  hosts: [admin.example.com]\n  gateways: [gw]\n" +
				"  tls:\n  - match: [{sniHosts: [admin.example.com]}]\n    route: [{destination: {host: db.internal, port: {number: 5432}}}]\n",
			code: 1,
			want: []string{`error: `, `VirtualService edge/db: spec.tls[0]: SNI "admin.example.com" on port 443 is passed through by Gateway edge/gw spec.servers[1]`,
				`terminated with MUTUAL by Gateway edge/gw spec.servers[0]`},
		},
		"plaintext serves the mTLS host": {
			other: "    port: {number: 80, name: http, protocol: HTTP}\n    hosts: [admin.example.com]",
			code:  0,
			want: []string{`warning: `, `Gateway edge/gw: spec.servers[1]: host "admin.example.com" is served with MUTUAL on port 443`,
				`set tls.httpsRedirect: true on this server, or remove the host from it`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			secrets := filepath.Join(dir, "secrets")
			if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"admin.example.com"}}); err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, "gw.yaml")
			if err := os.WriteFile(cfg, []byte(strings.Replace(strings.Replace(hostsGateway, "%s", tc.other, 1), "%s", tc.extra, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCapture("check", "--config", cfg, "--secrets-dir", secrets)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			line := findingLine(stdout, tc.want[1])
			if line == "" {
				t.Fatalf("no finding containing %q in:\n%s", tc.want[1], stdout)
			}
			for _, part := range tc.want {
				if !strings.Contains(line, part) {
					t.Errorf("finding %q does not contain %q", line, part)
				}
			}
		})
	}
}

// findingLine is the report line containing part.
func findingLine(report, part string) string {
	for _, l := range strings.Split(report, "\n") {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}
