package compile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

const diagGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: main
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: [HOST]
    tls: {mode: MODE, credentialName: server, caCertCredentialName: client-ca}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: edge}
spec:
  hosts: [HOST]
  gateways: [gw]
  http:
  - route: [{destination: {host: app.internal, port: {number: 8080}}}]
`

const diagPolicy = `---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: p, namespace: edge}
spec:
  targetRef: {kind: Gateway, name: gw, sectionName: main}
`

// TestDiagnoseThroughLoad checks that certificate and mode diagnoses reach
// Load's errors and warnings, naming the secret and where it is defined.
func TestDiagnoseThroughLoad(t *testing.T) {
	cases := map[string]struct {
		host, mode, policy string
		expiredCRL         bool
		expiredCert        bool
		serve              bool
		wantErr, wantWarn  string // substrings; "" means none expected
	}{
		"clean": {host: "app.example.com", mode: "MUTUAL"},
		"host not covered by the certificate": {
			host: "other.test", mode: "MUTUAL",
			wantErr: `does not cover host "other.test"`,
		},
		"optional mutual with SAN and rejection is an error": {
			host: "app.example.com", mode: "OPTIONAL_MUTUAL",
			policy:  "  subjectAltNames: [{type: URI, prefix: 'spiffe://example.com/'}]\n  rejection: {status: 400}\n",
			wantErr: "the configured rejection response can never be sent",
		},
		"optional mutual with SAN and no rejection is a warning": {
			host: "app.example.com", mode: "OPTIONAL_MUTUAL",
			policy:   "  subjectAltNames: [{type: URI, prefix: 'spiffe://example.com/'}]\n",
			wantWarn: "Envoy then requires a client certificate in the handshake",
		},
		"expired CRL is an error for check": {
			host: "app.example.com", mode: "MUTUAL", expiredCRL: true,
			wantErr: "CRL",
		},
		"expired CRL is a warning for serve": {
			host: "app.example.com", mode: "MUTUAL", expiredCRL: true, serve: true,
			wantWarn: "CRL",
		},
		// serve leaves an expired certificate to the server, which holds it
		// back when the one it serves is valid (xds/server/hold.go).
		"expired serving certificate is an error for check": {
			host: "app.example.com", mode: "MUTUAL", expiredCert: true,
			wantErr: "expired on",
		},
		"expired serving certificate is a warning for serve": {
			host: "app.example.com", mode: "MUTUAL", expiredCert: true, serve: true,
			wantWarn: "expired on",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			secrets := filepath.Join(dir, "secrets")
			now := time.Now()
			if err := certs.Init(secrets, certs.InitOptions{Now: now}); err != nil {
				t.Fatal(err)
			}
			issued := now
			if tc.expiredCert { // issued 30 days ago for 10 days
				issued = now.Add(-30 * 24 * time.Hour)
			}
			if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "server", Hosts: []string{"app.example.com"}, Now: issued, Days: 10}); err != nil {
				t.Fatal(err)
			}
			if tc.expiredCRL { // published 10 days ago, valid for 1 day
				if err := certs.WriteCRLs(secrets, certs.CRLOptions{Days: 1, Now: now.Add(-10 * 24 * time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			yaml := strings.NewReplacer("HOST", tc.host, "MODE", tc.mode).Replace(diagGateway)
			if tc.policy != "" {
				yaml += diagPolicy + tc.policy
			}
			cfgFile := filepath.Join(dir, "gw.yaml")
			if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := []compile.Option{compile.WithExpiryWarning(0)}
			if tc.serve {
				opts = append(opts, compile.ForServe())
			}
			cfg, err := compile.Load(model.LoadOptions{Paths: []string{cfgFile}, SecretsDirs: []string{secrets}}, opts...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			warnings := strings.Join(cfg.Warnings(), "\n")
			if tc.wantWarn == "" && warnings != "" {
				t.Fatalf("unexpected warnings:\n%s", warnings)
			}
			if !strings.Contains(warnings, tc.wantWarn) {
				t.Fatalf("warnings:\n%s\nwant one containing %q", warnings, tc.wantWarn)
			}
		})
	}
}

// TestConfigWarnings checks the configuration-wide findings: an unused Secret
// document and a VirtualService host that no Gateway server serves.
func TestConfigWarnings(t *testing.T) {
	dir := t.TempDir()
	secrets := serverPKI(t, dir, "app.example.com")
	yaml := strings.NewReplacer("HOST", "app.example.com", "MODE", "MUTUAL").Replace(diagGateway) +
		"---\napiVersion: v1\nkind: Secret\nmetadata: {name: leftover, namespace: edge}\nstringData: {note: unused}\n" +
		"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: stray, namespace: edge}\nspec:\n  hosts: [app.example.org]\n  gateways: [gw]\n  http:\n  - route: [{destination: {host: app.internal, port: {number: 8080}}}]\n"
	cfgFile := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := compile.Load(model.LoadOptions{Paths: []string{cfgFile}, SecretsDirs: []string{secrets}}, compile.WithExpiryWarning(0))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.Warnings(), "\n")
	for _, want := range []string{
		"gw.yaml:21: Secret edge/leftover: not used by any Gateway or DestinationRule of any proxy group",
		`gw.yaml:30: VirtualService edge/stray: spec.hosts[0]: host "app.example.org" is not served by any server of gateways gw: no route is built for it`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings:\n%s\nwant one containing %q", got, want)
		}
	}
	if strings.Contains(got, "client-ca") || strings.Contains(got, "Secret server") {
		t.Errorf("secrets-directory entries must not be reported as unused:\n%s", got)
	}
}
