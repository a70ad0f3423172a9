package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func runCertsCapture(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runCerts(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRunCertsExitCodes(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCertsCapture("init", "--dir", dir); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStdout string // substring; "" checks nothing
		wantStderr string
	}{
		"no command":               {args: nil, wantCode: 2, wantStderr: "Usage: trustgate certs"},
		"help":                     {args: []string{"--help"}, wantCode: 0, wantStdout: "for development and tests only"},
		"unknown command":          {args: []string{"sign"}, wantCode: 2, wantStderr: `unknown command "sign"`},
		"init help":                {args: []string{"init", "--help"}, wantCode: 0, wantStdout: "-intermediate"},
		"init without dir":         {args: []string{"init"}, wantCode: 2, wantStderr: "--dir is required"},
		"init with a bad key":      {args: []string{"init", "--dir", t.TempDir(), "--key", "dsa"}, wantCode: 2, wantStderr: `--key "dsa"`},
		"init with zero days":      {args: []string{"init", "--dir", t.TempDir(), "--days", "0"}, wantCode: 2, wantStderr: "days must be positive"},
		"init twice":               {args: []string{"init", "--dir", dir}, wantCode: 1, wantStderr: "already exists"},
		"init with a bad flag":     {args: []string{"init", "--bogus"}, wantCode: 2},
		"issue help":               {args: []string{"issue", "--help"}, wantCode: 0, wantStdout: "issue server|client"},
		"issue without kind":       {args: []string{"issue"}, wantCode: 2, wantStderr: "issue server|client"},
		"issue of an unknown kind": {args: []string{"issue", "peer"}, wantCode: 2, wantStderr: `unknown kind "peer"`},
		"issue server help":        {args: []string{"issue", "server", "--help"}, wantCode: 0, wantStdout: "-host"},
		"issue client help":        {args: []string{"issue", "client", "--help"}, wantCode: 0, wantStdout: "-uri"},
		"server without host":      {args: []string{"issue", "server", "--dir", dir, "--name", "a"}, wantCode: 2, wantStderr: "--host is required"},
		"server without name":      {args: []string{"issue", "server", "--dir", dir, "--host", "a"}, wantCode: 2, wantStderr: "--name is required"},
		"client without CN":        {args: []string{"issue", "client", "--dir", dir, "--name", "c"}, wantCode: 2, wantStderr: "--cn is required"},
		"unknown issuer":           {args: []string{"issue", "server", "--dir", dir, "--name", "a", "--host", "a", "--issuer", "sub"}, wantCode: 2, wantStderr: `--issuer "sub"`},
		"stray argument":           {args: []string{"issue", "server", "--dir", dir, "--name", "a", "--host", "a", "extra"}, wantCode: 2, wantStderr: `unexpected argument "extra"`},
		"intermediate not created": {args: []string{"issue", "server", "--dir", dir, "--name", "a", "--host", "a", "--issuer", "intermediate"}, wantCode: 1, wantStderr: "no such CA"},
		"issue without a PKI":      {args: []string{"issue", "server", "--dir", t.TempDir(), "--name", "a", "--host", "a"}, wantCode: 1, wantStderr: "no PKI"},
		"bad name":                 {args: []string{"issue", "client", "--dir", dir, "--name", "Alice/x", "--cn", "a"}, wantCode: 1, wantStderr: "DNS subdomain"},
		"revoke help":              {args: []string{"revoke", "--help"}, wantCode: 0, wantStdout: "-name"},
		"revoke without name":      {args: []string{"revoke", "--dir", dir}, wantCode: 2, wantStderr: "--name is required"},
		"revoke unknown name":      {args: []string{"revoke", "--dir", dir, "--name", "nobody"}, wantCode: 1, wantStderr: "not found"},
		"crl help":                 {args: []string{"crl", "--help"}, wantCode: 0, wantStdout: "every CA"},
		"crl with negative days":   {args: []string{"crl", "--dir", dir, "--crl-days", "-1"}, wantCode: 2, wantStderr: "must be positive"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCertsCapture(tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.wantStdout) || !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stdout %q / stderr %q lack %q / %q", stdout, stderr, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

func TestRunCertsFlow(t *testing.T) {
	dir := t.TempDir()
	steps := []struct {
		name string
		args []string
	}{
		{"init", []string{"init", "--dir", dir, "--intermediate", "--cn", "flow CA", "--crl-days", "3"}},
		{"issue server", []string{"issue", "server", "--dir", dir, "--name", "gw", "--host", "gw.example.com", "--host", "127.0.0.1", "--key", "rsa"}},
		{"issue client", []string{"issue", "client", "--dir", dir, "--name", "app", "--cn", "app", "--uri", "spiffe://example.org/app", "--o", "Example", "--issuer", "root"}},
		{"revoke", []string{"revoke", "--dir", dir, "--name", "app"}},
		{"crl", []string{"crl", "--dir", dir, "--crl-days", "1"}},
		{"reissue", []string{"issue", "client", "--dir", dir, "--name", "app", "--cn", "app", "--replace"}},
	}
	for _, s := range steps {
		if code, stdout, stderr := runCertsCapture(s.args...); code != 0 {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", s.name, code, stdout, stderr)
		}
	}
	for _, f := range []string{"gw/tls.crt", "gw/tls.key", "gw/ca.crt", "gw/ca.crl", "app/tls.crt", "client-ca/ca.crt", "client-ca/ca.crl", ".pki/state.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestRunCertsSecretYAML(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCertsCapture("init", "--dir", dir); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runCertsCapture("issue", "server", "--dir", dir, "--name", "web", "--host", "web.example.com", "--secret-yaml", "--namespace", "edge")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// stdout is the YAML alone (pipeable to kubectl); the summary is on stderr.
	var secret struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		StringData map[string]string `json:"stringData"`
	}
	if err := yaml.Unmarshal([]byte(stdout), &secret); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	tlsCrt, err := os.ReadFile(filepath.Join(dir, "web", "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if secret.Kind != "Secret" || secret.Metadata.Name != "web" || secret.Metadata.Namespace != "edge" || secret.StringData["tls.crt"] != string(tlsCrt) {
		t.Errorf("unexpected Secret: %+v", secret)
	}
	if !strings.Contains(stderr, "Issued server certificate") {
		t.Errorf("summary not on stderr: %q", stderr)
	}
}
