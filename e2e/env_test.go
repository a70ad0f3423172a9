package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/certs"
)

// skipMessage is what a run without Envoy reports.
const skipMessage = "no Envoy binary: set ENVOY_BIN or put envoy on PATH; see e2e/README.md"

// startTimeout bounds every wait for a process to come up or a change to
// reach Envoy.
const startTimeout = 60 * time.Second

// envoyBinary returns the Envoy to test against, or skips the test.
func envoyBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ENVOY_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("ENVOY_BIN=%s: %v", p, err)
		}
		return p
	}
	p, err := exec.LookPath("envoy")
	if err != nil {
		t.Skip(skipMessage)
	}
	return p
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// trustgateBinary builds cmd/trustgate once per test binary run; only
// tests that found an Envoy pay for it.
func trustgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trustgate-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "trustgate")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/trustgate")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/trustgate: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// closeBody closes a response body and joins the error to *err: for
// functions that read a response and return an error.
func closeBody(resp *http.Response, err *error) {
	*err = errors.Join(*err, resp.Body.Close())
}

// closeResponse closes a response body in a test.
func closeResponse(t *testing.T, resp *http.Response) {
	t.Helper()
	if err := resp.Body.Close(); err != nil {
		t.Errorf("closing the response body: %v", err)
	}
}

// process is a child process whose output is kept for failure messages.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the process's writers and a
// reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a process until the test ends: interrupted, then killed if it
// lingers. Its output is logged when the test fails.
func start(t *testing.T, name string, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	p := &process{name: name, cmd: cmd, out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cancel()
		err := cmd.Wait()
		if t.Failed() {
			t.Logf("%s exited (%v); its output:\n%s", name, err, tail(p.out.String(), 80))
		}
	})
	return p
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls cond every 200ms until it returns nil or startTimeout
// passes; it fails the test with cond's last error.
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: still not true after %v: %v", what, startTimeout, err)
}

// slowPath streams slowBytes, one every 100 ms (20 s in all).
const (
	slowPath  = "/slow"
	slowBytes = 200
)

// echoBackend is a plain-HTTP backend on 127.0.0.1 that answers every
// request with its headers as JSON, except slowPath.
func echoBackend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == slowPath {
			slowStream(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// slowStream writes slowBytes bytes, one every 100 ms, flushing each, until
// done or the client goes away.
func slowStream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	rc := http.NewResponseController(w)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range slowBytes {
		if _, err := w.Write([]byte{'.'}); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// clientTLS is a TLS client configuration for Envoy's listener: it trusts
// the PKI's CAs, sends serverName as SNI, and presents the client
// certificate of the secret directory name ("" for none).
func clientTLS(t *testing.T, pki, serverName, name string) *tls.Config {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(pki, certs.DefaultCASecretName, certs.FileCA))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA certificate in the PKI's client-ca secret")
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if name != "" {
		pair, err := tls.LoadX509KeyPair(filepath.Join(pki, name, certs.FileCert), filepath.Join(pki, name, certs.FileKey))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// httpsClient is an HTTP/1.1 client with its own connection pool (so that
// tests control connection reuse) that dials addr for every URL.
func httpsClient(cfg *tls.Config, addr string) *http.Client {
	var d net.Dialer
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: cfg,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		},
	}
}

// envoyStats reads Envoy's admin /stats (counters and gauges) into a map.
func envoyStats(adminPort int) (out map[string]int64, err error) {
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(adminPort) + "/stats")
	if err != nil {
		return nil, err
	}
	defer closeBody(resp, &err)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/stats: %s", resp.Status)
	}
	out = map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			out[name] = n
		}
	}
	return out, sc.Err()
}

// sumStats adds the stats whose names end with suffix (per-listener stats
// carry the listener's address in their names).
func sumStats(stats map[string]int64, suffix string) int64 {
	var n int64
	for name, v := range stats {
		if strings.HasSuffix(name, suffix) {
			n += v
		}
	}
	return n
}
