package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/certs"
)

// splitFixture is seed 004's layout: the Gateway and the VirtualService
// in two files, the server's certificate in one secrets directory and the
// client CA ("<credentialName>-cacert") in another.
type splitFixture struct{ gateway, routes, servers, clients string }

func newSplitFixture(t *testing.T) splitFixture {
	t.Helper()
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if err := certs.Init(pki, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(pki, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"app.example.com"}}); err != nil {
		t.Fatal(err)
	}
	f := splitFixture{
		gateway: filepath.Join(dir, "gateway.yaml"), routes: filepath.Join(dir, "routes.yaml"),
		servers: filepath.Join(dir, "servers"), clients: filepath.Join(dir, "clients"),
	}
	copyInto(t, filepath.Join(pki, "gw", certs.FileCert), filepath.Join(f.servers, "gw", certs.FileCert))
	copyInto(t, filepath.Join(pki, "gw", certs.FileKey), filepath.Join(f.servers, "gw", certs.FileKey))
	copyInto(t, filepath.Join(pki, certs.DefaultCASecretName, certs.FileCA), filepath.Join(f.clients, "gw-cacert", certs.FileCA))
	writeText(t, f.gateway, `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.com]
    tls: {mode: MUTUAL, credentialName: gw}
`)
	writeText(t, f.routes, `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: edge}
spec:
  hosts: [app.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: app.internal, port: {number: 8080}}}]
`)
	return f
}

func copyInto(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeText(t, to, string(b))
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFlagsAnywhere: flags may follow the paths, paths may follow
// --config or stand alone, and every --secrets-dir adds its secrets. The
// route comes from the second file, the client CA from the second
// directory, so output with both proves that every path was read.
func TestFlagsAnywhere(t *testing.T) {
	f := newSplitFixture(t)
	tests := map[string]struct {
		args   []string
		code   int
		stderr string
	}{
		"the issue's command line": {
			args: []string{"translate", "--config", f.gateway, f.routes, "--secrets-dir", f.servers, "--secrets-dir", f.clients},
		},
		"repeated --config": {
			args: []string{"translate", "--config", f.gateway, "--config", f.routes, "--secrets-dir", f.servers, "--secrets-dir", f.clients},
		},
		"comma-separated lists": {
			args: []string{"translate", "--config", f.gateway + "," + f.routes, "--secrets-dir", f.servers + "," + f.clients},
		},
		"paths only as arguments, flags first and last": {
			args: []string{"translate", "--secrets-dir", f.clients, f.gateway, f.routes, "--secrets-dir=" + f.servers, "-o", "json"},
		},
		"after --": {
			args: []string{"translate", "--secrets-dir", f.servers, "--secrets-dir", f.clients, "--", f.gateway, f.routes},
		},
		"the second --secrets-dir adds, in either order": {
			args: []string{"translate", f.gateway, f.routes, "--secrets-dir", f.clients, "--secrets-dir", f.servers},
		},
		"the server directory alone lacks the client CA": {
			args: []string{"translate", f.gateway, f.routes, "--secrets-dir", f.servers}, code: 1,
			stderr: `MUTUAL needs a client CA: secret "gw"`,
		},
		"the client directory alone lacks the server key": {
			args: []string{"translate", f.gateway, f.routes, "--secrets-dir", f.clients}, code: 1,
			stderr: `secret "gw" not found`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCapture(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
			if tc.code != 0 {
				return
			}
			for _, want := range []string{"app.internal", "gw-cacert", "app.example.com"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("the dump lacks %q: a path was not read", want)
				}
			}
		})
	}
	// check reads the same command line.
	code, stdout, stderr := runCapture("check", "--config", f.gateway, f.routes, "--secrets-dir", f.servers, "--secrets-dir", f.clients)
	if code != 0 {
		t.Errorf("check: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// TestExitStatus: usage errors exit 2, whichever layer finds them (cobra,
// pflag or the command); errors of a well-formed command exit 1.
func TestExitStatus(t *testing.T) {
	cfg, secrets := cliFixture(t, "app.example.com")
	pki := t.TempDir()
	if code, _, stderr := runCapture("certs", "init", "--dir", pki); code != 0 {
		t.Fatalf("certs init: %s", stderr)
	}
	tests := map[string]struct {
		args   []string
		code   int
		stderr string
	}{
		"unknown command, with a suggestion": {args: []string{"transalte"}, code: 2, stderr: `unknown command "transalte" for "trustgate"`},
		"unknown certs command":              {args: []string{"certs", "sign"}, code: 2, stderr: `unknown command "sign" for "trustgate certs"`},
		"unknown flag":                       {args: []string{"check", cfg, "--bogus"}, code: 2, stderr: "unknown flag: --bogus"},
		"flag without its value":             {args: []string{"check", cfg, "--secrets-dir"}, code: 2, stderr: "flag needs an argument: --secrets-dir"},
		"bad flag value":                     {args: []string{"explain", cfg, "--port", "https"}, code: 2, stderr: `invalid argument "https" for "--port"`},
		"bad output format":                  {args: []string{"check", cfg, "-o", "xml"}, code: 2, stderr: `--output must be text or json, not "xml"`},
		"stray argument":                     {args: []string{"version", "now"}, code: 2, stderr: `unexpected argument "now"`},
		"the hint names the command":         {args: []string{"certs", "crl", "--bogus"}, code: 2, stderr: "Run 'trustgate certs crl --help' for usage."},
		"missing file":                       {args: []string{"check", "/nonexistent/gw.yaml"}, code: 1, stderr: ""},
		"errors in the configuration":        {args: []string{"translate", cfg}, code: 1, stderr: `secret "gw" not found`},
		"a failing certs command":            {args: []string{"certs", "revoke", "--dir", pki, "--name", "nobody"}, code: 1, stderr: "trustgate certs revoke: "},
		"success":                            {args: []string{"translate", cfg, "--secrets-dir", secrets}, code: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCapture(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr)
			}
		})
	}
}

// TestFormerFlagNames: bootstrap's --labels and certs' --key still work,
// and say their new names on stderr (never on stdout, which may be a
// bootstrap file).
func TestFormerFlagNames(t *testing.T) {
	tests := map[string]struct {
		args         []string
		stdout, note string
	}{
		"--labels": {
			args:   []string{"bootstrap", "--node-id", "gw", "--labels", "app=edge"},
			stdout: "app: edge", note: "trustgate bootstrap: --labels is now --node-labels",
		},
		"--key": {
			args:   []string{"certs", "init", "--dir", t.TempDir(), "--key", "rsa"},
			stdout: "Created the development CA", note: "trustgate certs init: --key is now --key-type",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCapture(tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || strings.Contains(stdout, "is now") {
				t.Errorf("stdout:\n%s", stdout)
			}
			if !strings.Contains(stderr, tc.note) {
				t.Errorf("stderr lacks %q:\n%s", tc.note, stderr)
			}
		})
	}
}

// TestIssueTakenNameHint: a taken name says which flag rotates it, in the
// command's words, not the Go API's (IssueOptions.Replace).
func TestIssueTakenNameHint(t *testing.T) {
	dir := t.TempDir()
	issue := []string{"certs", "issue", "server", "--dir", dir, "--name", "web", "--host", "web.example.com"}
	if code, _, stderr := runCapture("certs", "init", "--dir", dir); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCapture(issue...); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr := runCapture(issue...)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	want := `trustgate certs issue server: certificate "web": already exists: --replace issues a new certificate under the name (rotation)`
	if strings.TrimSpace(stderr) != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	if code, _, stderr := runCapture(append(issue, "--replace")...); code != 0 {
		t.Errorf("--replace: exit %d: %s", code, stderr)
	}
}
