package model

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/certs"
)

// testPKI is throw-away PEM from the development PKI (package certs): a CA,
// a server certificate and key signed by it, and an empty CRL of the CA.
type testPKI struct {
	CA, Cert, Key, CRL []byte
}

var (
	pkiOnce sync.Once
	pki     testPKI
	pkiDir  string
	pkiErr  error
)

// TestMain removes the test PKI after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if pkiDir != "" {
		if err := os.RemoveAll(pkiDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// getPKI returns the test PKI, made once per test binary.
func getPKI(t testing.TB) testPKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = makePKI() })
	if pkiErr != nil {
		t.Fatalf("making test PKI: %v", pkiErr)
	}
	return pki
}

func makePKI() (testPKI, error) {
	dir, err := os.MkdirTemp("", "trustgate-model-pki-")
	if err != nil {
		return testPKI{}, err
	}
	pkiDir = dir
	if err := certs.Init(dir, certs.InitOptions{CommonName: "test CA", CRL: true}); err != nil {
		return testPKI{}, err
	}
	is, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: "httpbin", Hosts: []string{"httpbin.example.com"}})
	if err != nil {
		return testPKI{}, err
	}
	return testPKI{CA: is.CAPEM, Cert: is.CertPEM, Key: is.KeyPEM, CRL: is.CRLPEM}, nil
}

// secretDoc renders a v1 Secret whose data holds the given keys (base64).
func secretDoc(ns, name string, kv map[string][]byte) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\ndata:\n")
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("  " + k + ": " + base64.StdEncoding.EncodeToString(kv[k]) + "\n")
	}
	return b.String()
}

// writeFiles writes name -> content under dir, creating directories.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// errorLines returns err's messages, one per user error, with dir and a
// path separator removed from the front of each file name so expectations
// read "case.yaml:3: ...".
func errorLines(err error, dir string) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		out = append(out, strings.TrimPrefix(line, dir+string(filepath.Separator)))
	}
	return out
}

// loadText writes text to case.yaml in a fresh directory and loads it,
// returning the Config and the error lines relative to that directory.
func loadText(t *testing.T, text string) (*Config, []string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"case.yaml": text})
	cfg, err := Load(LoadOptions{Paths: []string{filepath.Join(dir, "case.yaml")}})
	return cfg, errorLines(err, dir)
}

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }

// validateText writes text to case.yaml beside shared fixtures (secrets.yaml
// and certs/), loads the directory, requires Load to succeed, and returns
// Validate's errors with the directory removed from every file name.
//
// secrets.yaml holds, in order: istio-system/gw-cred (tls.crt, tls.key,
// ca.crt; line 1), istio-system/simple-cred (tls.crt, tls.key; line 11),
// istio-system/client-ca (ca.crt, ca.crl; line 20) and
// default/backend-client (tls.crt, tls.key; line 29).
func validateText(t *testing.T, text string) []string {
	t.Helper()
	p := getPKI(t)
	dir := t.TempDir()
	secrets := strings.Join([]string{
		secretDoc("istio-system", "gw-cred", map[string][]byte{"tls.crt": p.Cert, "tls.key": p.Key, "ca.crt": p.CA}),
		secretDoc("istio-system", "simple-cred", map[string][]byte{"tls.crt": p.Cert, "tls.key": p.Key}),
		secretDoc("istio-system", "client-ca", map[string][]byte{"ca.crt": p.CA, "ca.crl": p.CRL}),
		secretDoc("default", "backend-client", map[string][]byte{"tls.crt": p.Cert, "tls.key": p.Key}),
	}, "---\n")
	writeFiles(t, dir, map[string]string{
		"case.yaml": text, "secrets.yaml": secrets,
		"certs/server.pem": string(p.Cert), "certs/key.pem": string(p.Key),
		"certs/ca.pem": string(p.CA), "certs/ca.crl": string(p.CRL),
	})
	cfg, err := Load(LoadOptions{Paths: []string{dir}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var out []string
	for _, line := range errorLines(cfg.Validate(), dir) {
		out = append(out, strings.ReplaceAll(line, dir+string(filepath.Separator), ""))
	}
	return out
}

// validateCases runs named Validate cases.
func validateCases(t *testing.T, tests map[string]validateCase) {
	t.Helper()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := validateText(t, tc.yaml)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate errors (-want +got):\n%s", diff)
			}
		})
	}
}

// validateCase is one Validate test: a case.yaml and the exact errors.
type validateCase struct {
	yaml string
	want []string
}
