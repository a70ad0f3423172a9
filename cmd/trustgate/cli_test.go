package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/certs"
)

// runCapture runs the binary's entry point in process.
func runCapture(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// cliFixture is a small MUTUAL gateway with its secrets directory.
func cliFixture(t *testing.T, host string) (cfg, secrets string) {
	t.Helper()
	dir := t.TempDir()
	secrets = filepath.Join(dir, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"app.example.com"}}); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "gw.yaml")
	yaml := `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [HOST]
    tls: {mode: MUTUAL, credentialName: gw}
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
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(yaml, "HOST", host)), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, secrets
}

func TestRunExitCodes(t *testing.T) {
	cfg, secrets := cliFixture(t, "app.example.com")
	badHost, badSecrets := cliFixture(t, "other.test")
	tests := map[string]struct {
		args       []string
		code       int
		stdout     string // substring expected on stdout
		stderr     string // substring expected on stderr
		notOnStdio string // must appear in neither
	}{
		"no command":             {args: nil, code: 2, stderr: "Usage: trustgate"},
		"unknown command":        {args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		"help":                   {args: []string{"--help"}, code: 0, stdout: "translate"},
		"version":                {args: []string{"--version"}, code: 0, stdout: "trustgate "},
		"translate help":         {args: []string{"translate", "--help"}, code: 0, stdout: "--show-secrets"},
		"check help":             {args: []string{"check", "--help"}, code: 0, stdout: "Exit status"},
		"serve help":             {args: []string{"serve", "--help"}, code: 0, stdout: "--xds-addr"},
		"translate no config":    {args: []string{"translate"}, code: 2, stderr: "--config is required"},
		"translate bad flag":     {args: []string{"translate", "--nope"}, code: 2, stderr: "flag provided but not defined"},
		"translate bad -o":       {args: []string{"translate", "--config", cfg, "-o", "xml"}, code: 2, stderr: "-o must be json or yaml"},
		"translate bad labels":   {args: []string{"translate", "--config", cfg, "--secrets-dir", secrets, "--node-labels", "novalue"}, code: 2},
		"translate missing file": {args: []string{"translate", "--config", "/nonexistent/x.yaml"}, code: 1, stderr: "/nonexistent/x.yaml"},
		"translate ok": {
			args: []string{"translate", "--config", cfg, "--secrets-dir", secrets}, code: 0,
			stdout: `"private_key"`, notOnStdio: "PRIVATE KEY-----",
		},
		"translate yaml": {
			args: []string{"translate", "--config", cfg, "--secrets-dir", secrets, "-o", "yaml"}, code: 0,
			stdout: "listeners:", notOnStdio: "PRIVATE KEY-----",
		},
		"check clean":        {args: []string{"check", "--config", cfg, "--secrets-dir", secrets}, code: 0, stdout: "0 error(s)"},
		"check finds errors": {args: []string{"check", "--config", badHost, "--secrets-dir", badSecrets}, code: 1, stdout: `does not cover host "other.test"`},
		"check no config":    {args: []string{"check"}, code: 2, stderr: "--config is required"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCapture(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if tc.notOnStdio != "" && strings.Contains(stdout+stderr, tc.notOnStdio) {
				t.Errorf("output contains %q", tc.notOnStdio)
			}
		})
	}
}

// TestTranslateDocument checks the shape of translate's output: one document
// with the five resource lists, Envoy's JSON names, Any as "@type", and the
// private key redacted unless --show-secrets.
func TestTranslateDocument(t *testing.T) {
	cfg, secrets := cliFixture(t, "app.example.com")
	for name, tc := range map[string]struct {
		args    []string
		showKey bool
	}{
		"redacted":     {args: nil},
		"show secrets": {args: []string{"--show-secrets"}, showKey: true},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCapture(append([]string{"translate", "--config", cfg, "--secrets-dir", secrets}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var doc map[string][]map[string]any
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("not one JSON document: %v", err)
			}
			for _, k := range []string{"listeners", "routes", "clusters", "endpoints", "secrets"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("missing %q", k)
				}
			}
			if !strings.Contains(stdout, `"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"`) {
				t.Error("no DownstreamTlsContext rendered with @type")
			}
			if got := strings.Contains(stdout, "[redacted]"); got == tc.showKey {
				t.Errorf("[redacted] present = %v, want %v", got, !tc.showKey)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	cfg, secrets := cliFixture(t, "other.test")
	code, stdout, _ := runCapture("check", "--config", cfg, "--secrets-dir", secrets, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	var r report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if r.Errors == 0 || len(r.Findings) == 0 || r.Findings[0].Severity != "error" {
		t.Errorf("report %+v, want an error finding", r)
	}
}

// TestExplain runs `trustgate explain` on the CLI fixture: the exit codes,
// the text trace and the JSON keys the README documents.
func TestExplain(t *testing.T) {
	cfg, secrets := cliFixture(t, "app.example.com")
	if _, err := certs.Issue(secrets, certs.KindClient, certs.IssueOptions{Name: "alice", CommonName: "alice"}); err != nil {
		t.Fatal(err)
	}
	base := []string{"explain", "--config", cfg, "--secrets-dir", secrets, "--port", "443", "--sni", "app.example.com"}
	code, out, errOut := runCapture(append(base, "--cert", filepath.Join(secrets, "alice", "tls.crt"), "-H", "X-Test: a,b")...)
	if code != 0 || !strings.Contains(out, "verdict: routed") || !strings.Contains(out, "x-test: a,b") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCapture(append(base, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, k := range []string{"verdict", "status", "reason", "listener", "filterChain", "clientCertificate", "route", "cluster", "upstreamHeaders", "policies"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if obj["verdict"] != "handshake-failed" || obj["clientCertificate"] != "none" {
		t.Errorf("no certificate on MUTUAL: verdict %v, clientCertificate %v", obj["verdict"], obj["clientCertificate"])
	}
	for name, args := range map[string][]string{
		"no port": {"explain", "--config", cfg},
		"bad -o":  append(base, "-o", "xml"),
		"bad -H":  append(base, "-H", "nocolon"),
	} {
		code, _, _ := runCapture(args...)
		want := 2
		if name == "bad -H" {
			want = 1
		}
		if code != want {
			t.Errorf("%s: exit %d, want %d", name, code, want)
		}
	}
}
