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
	code = run(append([]string{"certs"}, args...), &out, &errOut)
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
		"no command":               {args: nil, wantCode: 2, wantStderr: "Usage: trustgate certs <command>"},
		"help":                     {args: []string{"--help"}, wantCode: 0, wantStdout: "for development and tests only"},
		"unknown command":          {args: []string{"sign"}, wantCode: 2, wantStderr: `unknown command "sign"`},
		"init help":                {args: []string{"init", "--help"}, wantCode: 0, wantStdout: "-intermediate"},
		"init without dir":         {args: []string{"init"}, wantCode: 2, wantStderr: "--dir is required"},
		"init with a bad key":      {args: []string{"init", "--dir", t.TempDir(), "--key-type", "dsa"}, wantCode: 2, wantStderr: `--key-type "dsa"`},
		"init with zero days":      {args: []string{"init", "--dir", t.TempDir(), "--days", "0"}, wantCode: 2, wantStderr: "days must be positive"},
		"init twice":               {args: []string{"init", "--dir", dir}, wantCode: 1, wantStderr: "already exists"},
		"init with a bad flag":     {args: []string{"init", "--bogus"}, wantCode: 2},
		"issue help":               {args: []string{"issue", "--help"}, wantCode: 0, wantStdout: "Usage: trustgate certs issue <command>"},
		"issue without kind":       {args: []string{"issue"}, wantCode: 2, wantStderr: "Usage: trustgate certs issue <command>"},
		"issue of an unknown kind": {args: []string{"issue", "peer"}, wantCode: 2, wantStderr: `unknown kind "peer"`},
		"issue server help":        {args: []string{"issue", "server", "--help"}, wantCode: 0, wantStdout: "-host"},
		"issue client help":        {args: []string{"issue", "client", "--help"}, wantCode: 0, wantStdout: "-uri"},
		"server without host":      {args: []string{"issue", "server", "--dir", dir, "--name", "a"}, wantCode: 2, wantStderr: "--host is required"},
		"server without name":      {args: []string{"issue", "server", "--dir", dir, "--host", "a"}, wantCode: 2, wantStderr: "--name is required"},
		"client without CN":        {args: []string{"issue", "client", "--dir", dir, "--name", "c"}, wantCode: 2, wantStderr: "--cn (or --subject) is required"},
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
		{"issue server", []string{"issue", "server", "--dir", dir, "--name", "gw", "--host", "gw.example.com", "--host", "127.0.0.1", "--key-type", "rsa"}},
		{"issue client", []string{"issue", "client", "--dir", dir, "--name", "app", "--cn", "app", "--uri", "spiffe://example.org/app", "--org", "Example", "--issuer", "root"}},
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

// exists reports whether a file of the PKI directory exists.
func exists(t *testing.T, path ...string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(path...))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestRunCertsNoCRLUntilAsked: a PKI has no CRL (nothing can expire) until
// one is asked for or a certificate is revoked; every publication says until
// when the CRLs are valid and how to renew them.
func TestRunCertsNoCRLUntilAsked(t *testing.T) {
	crlFiles := func(dir string) []bool {
		return []bool{exists(t, dir, "client-ca", "ca.crl"), exists(t, dir, "web", "ca.crl"), exists(t, dir, "app", "ca.crl")}
	}
	renewal := []string{"valid until ", "Envoy rejects every client certificate of these CAs", "renew before then with 'trustgate certs crl --dir "}
	tests := map[string]struct {
		init      []string
		then      []string // a last command, after issuing web and app
		wantCRL   bool
		wantOut   []string // in the last command's stdout
		wantNoOut []string
	}{
		"init alone: no CRL": {
			init:    []string{"--intermediate"},
			wantOut: []string{"no CRL: nothing is revoked"},
		},
		"init --crl": {
			init: []string{"--intermediate", "--crl", "--crl-days", "10"}, wantCRL: true,
			wantOut: append([]string{"Client CA secret: ", "{ca.crt,ca.crl}", "number 1, 0 revoked", "(10 days)"}, renewal...),
		},
		"revoke publishes": {
			init: []string{"--intermediate"}, then: []string{"revoke", "--name", "app"}, wantCRL: true,
			wantOut: append([]string{`Revoked "app"`, "intermediate CA: number 1, 1 revoked", "root CA: number 1, 0 revoked", "(30 days)"}, renewal...),
		},
		"revoke --publish=false only records": {
			init: nil, then: []string{"revoke", "--name", "app", "--publish=false"},
			wantOut:   []string{"Not published yet: run 'trustgate certs crl --dir "},
			wantNoOut: []string{"valid until"},
		},
		"crl on a PKI without CRLs starts them": {
			init: nil, then: []string{"crl", "--crl-days", "2"}, wantCRL: true,
			wantOut: append([]string{"root CA: number 1, 0 revoked", "(2 days)"}, renewal...),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			steps := [][]string{
				append([]string{"init", "--dir", dir}, tc.init...),
				{"issue", "server", "--dir", dir, "--name", "web", "--host", "web.example.com"},
				{"issue", "client", "--dir", dir, "--name", "app", "--cn", "app"},
			}
			if tc.then != nil {
				steps = append(steps, append([]string{tc.then[0], "--dir", dir}, tc.then[1:]...))
			}
			var stdout string
			for i, args := range steps {
				code, out, stderr := runCertsCapture(args...)
				if code != 0 {
					t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, stderr)
				}
				if i == 0 || i == len(steps)-1 {
					stdout += out
				}
			}
			want := []bool{tc.wantCRL, tc.wantCRL, tc.wantCRL}
			if got := crlFiles(dir); !equalBools(got, want) {
				t.Errorf("ca.crl in client-ca, web, app: %v, want %v", got, want)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantNoOut {
				if strings.Contains(stdout, w) {
					t.Errorf("output has %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRunCertsSubjects: every subject option, and a SAP-style subject
// given whole; the summary prints it as Envoy does.
func TestRunCertsSubjects(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCertsCapture("init", "--dir", dir, "--subject", "/C=DE/L=Walldorf/O=SAP SE/OU=SAP Cloud Platform Clients/CN=SAP Cloud Platform Client CA")
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	if want := `Created the development CA "CN=SAP Cloud Platform Client CA,OU=SAP Cloud Platform Clients,O=SAP SE,L=Walldorf,C=DE"`; !strings.Contains(stdout, want) {
		t.Errorf("init output lacks %s:\n%s", want, stdout)
	}
	tests := map[string]struct {
		args []string
		want string
	}{
		"SAP-style subject": {
			args: []string{"client", "--name", "sap", "--subject", "CN=my-app,L=aws,OU=SAP Cloud Platform Clients,OU=0f1e2d3c,O=SAP SE,C=DE"},
			want: "subject: CN=my-app,L=aws,OU=SAP Cloud Platform Clients,OU=0f1e2d3c,O=SAP SE,C=DE\n",
		},
		"every attribute flag": {
			args: []string{"client", "--name", "flags", "--cn", "app", "--org", "Example, Inc.", "--ou", "Clients", "--ou", "Team 7", "--locality", "Walldorf", "--state", "BW", "--country", "de"},
			want: `subject: CN=app,OU=Team 7,OU=Clients,O=Example\, Inc.,L=Walldorf,ST=BW,C=DE` + "\n",
		},
		"server with its own CN": {
			args: []string{"server", "--name", "web", "--host", "web.example.com", "--cn", "Web Frontend", "--org", "Example"},
			want: "subject: CN=Web Frontend,O=Example\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"issue", tc.args[0], "--dir", dir}, tc.args[1:]...)
			code, stdout, stderr := runCertsCapture(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, tc.want) {
				t.Errorf("summary lacks %q:\n%s", tc.want, stdout)
			}
		})
	}
}
