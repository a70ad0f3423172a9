package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/xdstls/xdstlstest"
)

// leakTimeout bounds every wait of the leak test.
const leakTimeout = 10 * time.Second

// transcript is everything the commands printed and served, by source.
type transcript struct {
	t      *testing.T
	chunks []chunk
}

type chunk struct{ source, text string }

func (tr *transcript) add(source, text string) {
	tr.chunks = append(tr.chunks, chunk{source, text})
}

// run runs a command in process, records its output and returns stdout.
func (tr *transcript) run(wantCode int, args ...string) string {
	tr.t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	source := "trustgate " + strings.Join(args, " ")
	tr.add(source+" (stdout)", stdout.String())
	tr.add(source+" (stderr)", stderr.String())
	if code != wantCode {
		tr.t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", source, code, wantCode, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// leakFixture is a working configuration whose secrets hold private keys,
// broken ones whose errors name secrets, and the PKI of xDS over mutual TLS.
type leakFixture struct {
	dir             string
	config, secrets string
	broken          map[string][2]string // name -> config, secrets dir
	xdsPKI          string
	xdsCert, xdsKey string
	xdsCA, authz    string
	proxy           xdstlstest.Client
	keys            []privateKey
}

func newLeakFixture(t *testing.T, tr *transcript) *leakFixture {
	t.Helper()
	dir := t.TempDir()
	f := &leakFixture{dir: dir, broken: map[string][2]string{}}
	if err := writeDefaultConfig(filepath.Join(dir, "good")); err != nil {
		t.Fatal(err)
	}
	f.config, f.secrets = filepath.Join(dir, "good", "config"), filepath.Join(dir, "good", "pki")

	// xDS over mutual TLS, made with the CLI so that its output is checked too.
	f.xdsPKI = filepath.Join(dir, "xds")
	tr.run(0, "certs", "init", "--dir", f.xdsPKI)
	tr.run(0, "certs", "issue", "server", "--dir", f.xdsPKI, "--name", "trustgate", "--host", "127.0.0.1")
	tr.run(0, "certs", "issue", "client", "--dir", f.xdsPKI, "--name", "gw-1", "--cn", "gw-1", "--uri", "spiffe://trustgate.test/gw-1")
	f.xdsCert, f.xdsKey = filepath.Join(f.xdsPKI, "trustgate", "tls.crt"), filepath.Join(f.xdsPKI, "trustgate", "tls.key")
	f.xdsCA = filepath.Join(f.xdsPKI, "client-ca", "ca.crt")
	f.proxy = xdstlstest.Client{
		CA:   filepath.Join(f.xdsPKI, "gw-1", "ca.crt"),
		Cert: filepath.Join(f.xdsPKI, "gw-1", "tls.crt"), Key: filepath.Join(f.xdsPKI, "gw-1", "tls.key"),
	}
	f.authz = filepath.Join(dir, "authz.yaml")
	write(t, f.authz, "- identity: gw-1\n  labels: {app: trustgate-default}\n")
	f.brokenConfigs(t)
	f.keys = privateKeys(t, f.secrets, f.xdsPKI, filepath.Join(dir, "broken"))
	return f
}

// brokenConfigs writes configurations whose errors name secrets that hold
// keys: keys and certificates swapped, a key in a CA bundle, a Secret with a
// key but no certificate, a truncated key, and a key of another certificate.
func (f *leakFixture) brokenConfigs(t *testing.T) {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(f.secrets, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cert, key, ca := read("default-gateway/tls.crt"), read("default-gateway/tls.key"), read("default-gateway/ca.crt")
	otherKey := read("client/tls.key")
	gateway := func(secret string) string {
		return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw-%[1]s, namespace: default}
spec:
  selector: {app: trustgate-default}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [localhost]
    tls: {mode: MUTUAL, credentialName: %[1]s}
---
`, secret)
	}
	indent := func(s string) string { return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ") }
	base := filepath.Join(f.dir, "broken")
	cases := map[string]struct {
		config  string
		secrets map[string]string // path under the secrets dir -> content
	}{
		"PEM errors": {
			config: gateway("swapped") + gateway("keyinca") + gateway("inline") + `apiVersion: v1
kind: Secret
metadata: {name: inline, namespace: default}
type: kubernetes.io/tls
stringData:
  tls.crt: not a certificate
  tls.key: |
` + indent(key) + "\n",
			secrets: map[string]string{
				"swapped/tls.crt": key, "swapped/tls.key": cert, "swapped/ca.crt": ca,
				"keyinca/tls.crt": cert, "keyinca/tls.key": key, "keyinca/ca.crt": ca + otherKey,
			},
		},
		"truncated key": {
			config:  gateway("truncated"),
			secrets: map[string]string{"truncated/tls.crt": cert, "truncated/tls.key": key[:len(key)/2] + "\n-----END PRIVATE KEY-----\n", "truncated/ca.crt": ca},
		},
		"key of another certificate": {
			config:  gateway("mismatch"),
			secrets: map[string]string{"mismatch/tls.crt": cert, "mismatch/tls.key": otherKey, "mismatch/ca.crt": ca},
		},
	}
	for name, c := range cases {
		d := filepath.Join(base, strings.ReplaceAll(name, " ", "-"))
		write(t, filepath.Join(d, "config", "gateway.yaml"), c.config)
		for p, content := range c.secrets {
			write(t, filepath.Join(d, "secrets", p), content)
		}
		f.broken[name] = [2]string{filepath.Join(d, "config"), filepath.Join(d, "secrets")}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNoPrivateKeyLeaks runs every command, and serves, with configurations
// holding private keys, and searches everything printed, logged and served
// on the admin endpoint for them. The xDS payload is not searched: SDS is
// how the keys legitimately reach the proxies, over mutual TLS.
func TestNoPrivateKeyLeaks(t *testing.T) {
	// serve stops on SIGINT; with the test's own handler registered a stray
	// signal cannot kill the test binary.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)

	tr := &transcript{t: t}
	f := newLeakFixture(t, tr)
	good := []string{"--config", f.config, "--secrets-dir", f.secrets}
	tr.run(0, append([]string{"translate"}, good...)...)
	tr.run(0, append([]string{"translate", "-o", "yaml"}, good...)...)
	tr.run(0, append([]string{"check"}, good...)...)
	tr.run(0, append([]string{"check", "-o", "json"}, good...)...)
	tr.run(0, "bootstrap", "--node-id", "gw-1", "--node-labels", "app=trustgate-default", "--xds-addr", "127.0.0.1:18000",
		"--xds-ca", f.proxy.CA, "--xds-cert", f.proxy.Cert, "--xds-key", f.proxy.Key)
	for name, b := range f.broken {
		args := []string{"--config", b[0], "--secrets-dir", b[1]}
		out := tr.run(1, append([]string{"check"}, args...)...)
		if !strings.Contains(out, "error:") {
			t.Errorf("broken configuration %q: check reports no error:\n%s", name, out)
		}
		tr.run(1, append([]string{"check", "-o", "json"}, args...)...)
		tr.run(1, append([]string{"translate"}, args...)...)
		tr.run(1, append([]string{"translate", "-o", "yaml"}, args...)...)
		// --wait-for-config: serve would exit 1 on a broken first load.
		s := startServe(t, tr, "serve "+name, append(args, "--log-level", "debug", "--wait-for-config")...)
		s.admin(t, tr, http.StatusServiceUnavailable, "/readyz")
		s.admin(t, tr, http.StatusOK, "/debug/reload")
		s.stop(t, tr)
	}
	serveMutualTLS(t, tr, f)

	for _, c := range tr.chunks {
		for _, l := range leaks(f.keys, c.text) {
			t.Errorf("%s shows %s", c.source, l)
		}
	}

	// Positive controls: the search finds keys where they are meant to be.
	shown := tr.run(0, append([]string{"translate", "--show-secrets"}, good...)...)
	shownYAML := tr.run(0, append([]string{"translate", "--show-secrets", "-o", "yaml"}, good...)...)
	secretYAML := tr.run(0, "certs", "issue", "client", "--dir", f.xdsPKI, "--name", "gw-2", "--cn", "gw-2", "--secret-yaml")
	more := privateKeys(t, filepath.Join(f.xdsPKI, "gw-2"))
	for name, text := range map[string]string{"translate --show-secrets": shown, "translate --show-secrets -o yaml": shownYAML} {
		if len(leaks(f.keys, text)) == 0 {
			t.Errorf("%s: no key found; the search is blind", name)
		}
	}
	if got := leaks(more, secretYAML); len(got) < 2 {
		t.Errorf("certs issue --secret-yaml: found %v; want the PEM marker and the key", got)
	}
}

// TestKeyForms checks that every form of a key is found where that
// encoding of the key is, and nowhere in its certificate.
func TestKeyForms(t *testing.T) {
	dir := t.TempDir()
	if err := writeDefaultConfig(dir); err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "pki", "default-gateway", "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, "pki", "default-gateway", "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	keys := privateKeys(t, filepath.Join(dir, "pki", "default-gateway"))
	body := strings.Join(strings.Split(string(keyPEM), "\n")[1:4], "\n") // PEM lines, no header
	tests := map[string]struct {
		text string
		want string // substring of a finding; "" for none
	}{
		"the PEM file":             {text: string(keyPEM), want: "PEM private key marker"},
		"the PEM body alone":       {text: body, want: "(base64)"},
		"JSON-escaped PEM":         {text: strings.ReplaceAll(body, "\n", `\n`), want: "(base64)"},
		"protojson inline_bytes":   {text: `"inline_bytes": "` + base64.StdEncoding.EncodeToString(keyPEM) + `"`, want: "base64 of PEM"},
		"inline_bytes, shifted":    {text: base64.StdEncoding.EncodeToString(append([]byte("x"), keyPEM...)), want: "base64 of PEM"},
		"the certificate":          {text: string(certPEM)},
		"the certificate, encoded": {text: base64.StdEncoding.EncodeToString(certPEM)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := strings.Join(leaks(keys, tc.text), "; ")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("found %q, want %q", got, tc.want)
			}
		})
	}
}

// serveMutualTLS serves the working configuration over mutual TLS, lets a
// fake Envoy fetch everything, secrets included, and reads every admin page.
func serveMutualTLS(t *testing.T, tr *transcript, f *leakFixture) {
	t.Helper()
	s := startServe(t, tr, "serve over mutual TLS", "--config", f.config, "--secrets-dir", f.secrets, "--log-level", "debug",
		"--xds-cert", f.xdsCert, "--xds-key", f.xdsKey, "--xds-client-ca", f.xdsCA, "--xds-authz", f.authz)
	dial, err := f.proxy.DialOption("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e, err := envoytest.Dial(context.Background(), s.xds, envoytest.Options{NodeID: "gw-1", Labels: map[string]string{"app": "trustgate-default"}, DialOptions: []grpc.DialOption{dial}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.WaitComplete(leakTimeout)
	if err != nil {
		t.Fatal(err)
	}
	keys := 0
	for _, sec := range v.Secrets {
		if strings.Contains(sec.GetTlsCertificate().GetPrivateKey().GetInlineString(), pemMarker) {
			keys++
		}
	}
	if keys == 0 {
		t.Fatalf("the proxy got no private key over SDS: %d secrets", len(v.Secrets))
	}
	s.admin(t, tr, http.StatusOK, "/healthz")
	s.admin(t, tr, http.StatusOK, "/readyz")
	s.admin(t, tr, http.StatusOK, "/metrics")
	if body := s.admin(t, tr, http.StatusOK, "/debug/config?node-labels=app=trustgate-default"); !strings.Contains(body, "[redacted]") {
		t.Errorf("/debug/config shows no redacted key: the page is not the one with secrets\n%s", body)
	}
	s.admin(t, tr, http.StatusOK, "/debug/config?node-labels=app=trustgate-default&layout=resources&format=yaml")
	s.admin(t, tr, http.StatusNotFound, "/debug/config") // no Gateway selects a proxy without labels
	if body := s.admin(t, tr, http.StatusOK, "/debug/proxies"); !strings.Contains(body, `"node_id": "gw-1"`) {
		t.Errorf("/debug/proxies does not show the connected proxy:\n%s", body)
	}
	s.admin(t, tr, http.StatusOK, "/debug/reload")
	s.admin(t, tr, http.StatusNotFound, "/debug/nope")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	s.stop(t, tr)
}

// served is `trustgate serve` running in process.
type served struct {
	name      string
	log       *logBuffer
	stdout    *logBuffer
	done      chan int
	xds, addr string // the ADS and admin addresses it logged
}

func startServe(t *testing.T, tr *transcript, name string, args ...string) *served {
	t.Helper()
	s := &served{name: name, log: newLogBuffer(), stdout: newLogBuffer(), done: make(chan int, 1)}
	args = append([]string{"serve", "--xds-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, args...)
	go func() { s.done <- run(args, s.stdout, s.log) }()
	line, err := s.log.waitFor(`"msg":"serving"`, s.done)
	if err != nil {
		tr.add(name+" (log)", s.log.String())
		t.Fatalf("%s: %v\n%s", name, err, s.log.String())
	}
	var at struct{ XDS, Admin string }
	if err := json.Unmarshal([]byte(line), &at); err != nil {
		t.Fatal(err)
	}
	s.xds, s.addr = at.XDS, at.Admin
	return s
}

// admin GETs an admin page, records it and returns its body.
func (s *served) admin(t *testing.T, tr *transcript, wantCode int, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	tr.add(fmt.Sprintf("%s: GET %s", s.name, path), string(body))
	if resp.StatusCode != wantCode {
		t.Errorf("%s: GET %s = %d, want %d\n%s", s.name, path, resp.StatusCode, wantCode, body)
	}
	return string(body)
}

// stop interrupts serve as a terminal would and records its output.
func (s *served) stop(t *testing.T, tr *transcript) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("%s: exit %d after SIGINT", s.name, code)
		}
	case <-time.After(leakTimeout):
		t.Fatalf("%s did not stop on SIGINT", s.name)
	}
	tr.add(s.name+" (log)", s.log.String())
	tr.add(s.name+" (stdout)", s.stdout.String())
}

// logBuffer collects output written concurrently and wakes waiters.
type logBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor returns the first line containing s, or an error when done
// delivers (the command ended) or leakTimeout passes.
func (l *logBuffer) waitFor(s string, done <-chan int) (string, error) {
	deadline := time.NewTimer(leakTimeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		text, ch := l.b.String(), l.changed
		l.mu.Unlock()
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				return sc.Text(), nil
			}
		}
		select {
		case <-ch:
		case code := <-done:
			return "", fmt.Errorf("exited %d before logging %s", code, s)
		case <-deadline.C:
			return "", fmt.Errorf("no %s logged after %v", s, leakTimeout)
		}
	}
}
