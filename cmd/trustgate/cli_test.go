package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/encoding/protojson"

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
		"no command":           {args: nil, code: 2, stderr: "Usage: trustgate"},
		"unknown command":      {args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		"help":                 {args: []string{"--help"}, code: 0, stdout: "translate"},
		"version":              {args: []string{"--version"}, code: 0, stdout: "trustgate "},
		"translate help":       {args: []string{"translate", "--help"}, code: 0, stdout: "--show-secrets"},
		"check help":           {args: []string{"check", "--help"}, code: 0, stdout: "Exit status"},
		"serve help":           {args: []string{"serve", "--help"}, code: 0, stdout: "--xds-addr"},
		"translate no config":  {args: []string{"translate"}, code: 2, stderr: "--config is required"},
		"translate bad flag":   {args: []string{"translate", "--nope"}, code: 2, stderr: "flag provided but not defined"},
		"translate bad -o":     {args: []string{"translate", "--config", cfg, "-o", "xml"}, code: 2, stderr: "-o must be json or yaml"},
		"translate bad labels": {args: []string{"translate", "--config", cfg, "--secrets-dir", secrets, "--node-labels", "novalue"}, code: 2},
		"translate unselected labels": {
			args: []string{"translate", "--config", cfg, "--secrets-dir", secrets, "--node-labels", "istio=ingresgateway"}, code: 2,
			stderr: `no Gateway selects a proxy labelled "istio=ingresgateway", so it would get no configuration; the Gateways select "istio=ingressgateway"; choose one with --node-labels`,
		},
		"translate labels beyond the selector": {
			args: []string{"translate", "--config", cfg, "--secrets-dir", secrets, "--node-labels", "istio=ingressgateway,zone=a"}, code: 0,
			stdout: `"dynamic_listeners"`,
		},
		"translate bad layout":   {args: []string{"translate", "--config", cfg, "--layout", "istio"}, code: 2, stderr: "--layout must be config-dump or resources"},
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

// TestTranslateDocument checks the shape of translate's output: Envoy's
// admin.v3.ConfigDump by default, or trustgate's document with the five
// resource lists; Envoy's JSON names, Any as "@type", and the private key
// redacted unless --show-secrets.
func TestTranslateDocument(t *testing.T) {
	cfg, secrets := cliFixture(t, "app.example.com")
	for name, tc := range map[string]struct {
		args    []string
		showKey bool
		check   func(t *testing.T, stdout string)
	}{
		"redacted":             {args: nil, check: isConfigDump},
		"show secrets":         {args: []string{"--show-secrets"}, showKey: true, check: isConfigDump},
		"resources":            {args: []string{"--layout", "resources"}, check: isResourcesDocument},
		"resources, show keys": {args: []string{"--layout=resources", "--show-secrets"}, showKey: true, check: isResourcesDocument},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCapture(append([]string{"translate", "--config", cfg, "--secrets-dir", secrets}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			tc.check(t, stdout)
			if !strings.Contains(stdout, `"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"`) {
				t.Error("no DownstreamTlsContext rendered with @type")
			}
			if got := strings.Contains(stdout, "[redacted]"); got == tc.showKey {
				t.Errorf("[redacted] present = %v, want %v", got, !tc.showKey)
			}
		})
	}
}

// isConfigDump checks that stdout reads as Envoy's admin.v3.ConfigDump.
func isConfigDump(t *testing.T, stdout string) {
	t.Helper()
	var d adminv3.ConfigDump
	if err := protojson.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("not an admin.v3.ConfigDump: %v", err)
	}
	if len(d.GetConfigs()) != 5 {
		t.Errorf("%d configs, want clusters, endpoints, listeners, routes and secrets", len(d.GetConfigs()))
	}
}

// isResourcesDocument checks trustgate's own layout.
func isResourcesDocument(t *testing.T, stdout string) {
	t.Helper()
	var doc map[string][]map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("not one JSON document: %v", err)
	}
	for _, k := range []string{"listeners", "routes", "clusters", "endpoints", "secrets"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("missing %q", k)
		}
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

// checkEverything has a problem in every stage, in one file: a typo in a
// field name, a YAML syntax error in one document, a Gateway naming a
// missing secret, and a VirtualService with a bad regex and a missing
// Gateway.
const checkEverything = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.com]
    tls: {mode: MUTUAL, credentialNmae: gw}
---
kind: [
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: edge}
spec:
  hosts: [app.example.com]
  gateways: [gw, gww]
  http:
  - match: [{uri: {regex: "(x"}}]
    route: [{destination: {host: app.internal}}]
`

// TestCheckReportsEverything checks that one run of check reports every
// problem of a file, and that -o json gives each finding's parts as fields
// of their own.
func TestCheckReportsEverything(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfg, []byte(checkEverything), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCapture("check", "--config", cfg, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	var r report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	want := []finding{
		{File: cfg, Line: 9, Kind: "Gateway", Namespace: "edge", Name: "gw", Field: "spec.servers[0].tls.credentialNmae",
			Code: "unknown-field", Severity: "error", Message: `unknown field "credentialNmae"`, Fix: `did you mean "credentialName"?`},
		// A consequence of the typo at the mapping that held it: reported,
		// since only errors at or inside the field meant are left out.
		{File: cfg, Line: 9, Kind: "Gateway", Namespace: "edge", Name: "gw", Field: "spec.servers[0].tls",
			Code: "invalid", Severity: "error", Message: "MUTUAL needs a certificate: set credentialName, credentialNames, or serverCertificate and privateKey"},
		{File: cfg, Line: 11, Code: "yaml-syntax", Severity: "error", Message: "invalid YAML: did not find expected node content"},
		{File: cfg, Line: 18, Kind: "VirtualService", Namespace: "edge", Name: "app", Field: "spec.gateways[1]",
			Code: "invalid", Severity: "error", Message: `gateway "gww" (edge/gww) not found`, Fix: `did you mean "edge/gw"?`},
		{File: cfg, Line: 20, Kind: "VirtualService", Namespace: "edge", Name: "app", Field: "spec.http[0].match[0].uri.regex",
			Code: "invalid", Severity: "error", Message: "invalid regex: error parsing regexp: missing closing ): `(x`"},
	}
	if d := cmp.Diff(want, r.Findings, cmpopts.IgnoreFields(finding{}, "Text")); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if r.Errors != len(want) || r.Warnings != 0 {
		t.Errorf("%d errors and %d warnings, want %d and 0", r.Errors, r.Warnings, len(want))
	}
	for _, field := range []string{"file", "line", "kind", "namespace", "name", "field", "code", "severity", "message", "fix"} {
		if !strings.Contains(stdout, `"`+field+`": `) {
			t.Errorf("-o json has no %q field", field)
		}
	}
	code, text, _ := runCapture("check", "--config", cfg)
	if code != 1 || !strings.Contains(text, `error: `+cfg+`:9: Gateway edge/gw: spec.servers[0].tls.credentialNmae: unknown field "credentialNmae" (did you mean "credentialName"?)`) ||
		!strings.Contains(text, "5 error(s), 0 warning(s)") {
		t.Errorf("text report (exit %d):\n%s", code, text)
	}
}
