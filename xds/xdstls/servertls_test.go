package xdstls_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/xds/xdstls"
	"github.com/trustgate/trustgate/xds/xdstls/xdstlstest"
)

// handshake is one connection's outcome on the server side.
type handshake struct {
	state tls.ConnectionState
	err   error
}

// tlsServer accepts TLS connections with cfg on loopback, completes each
// handshake, answers "ok" and reports the outcome.
func tlsServer(t *testing.T, cfg *tls.Config) (string, <-chan handshake) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan handshake, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			tc := tls.Server(c, cfg)
			err = tc.Handshake()
			if err == nil {
				_, err = tc.Write([]byte("ok"))
			}
			out <- handshake{state: tc.ConnectionState(), err: err}
			_ = tc.Close() // the outcome is already reported
		}
	})
	t.Cleanup(func() {
		if err := lis.Close(); err != nil {
			t.Error(err)
		}
		wg.Wait()
	})
	return lis.Addr().String(), out
}

// dial connects with cfg and reads the server's "ok": with TLS 1.3 a client
// learns that its certificate was refused only when it reads.
func dial(addr string, cfg *tls.Config) (*tls.ConnectionState, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close() }() // read-only use
	b := make([]byte, 2)
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	st := c.ConnectionState()
	return &st, nil
}

type env struct {
	pki, other *xdstlstest.PKI
	files      xdstls.Files
	gw         xdstlstest.Client // spiffe://example.org/gw/a from pki
	stranger   xdstlstest.Client // from other
	logs       *bytes.Buffer
	logMu      *sync.Mutex
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	pki, err := xdstlstest.NewPKI(filepath.Join(dir, "pki"), "xds CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := xdstlstest.NewPKI(filepath.Join(dir, "other"), "other CA")
	if err != nil {
		t.Fatal(err)
	}
	files, err := pki.Server("trustgate", false, "trustgate.internal", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := pki.Client(certs.IssueOptions{Name: "gw-a", CommonName: "gw-a", URIs: []string{"spiffe://example.org/gw/a"}})
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := other.Client(certs.IssueOptions{Name: "stranger", CommonName: "stranger"})
	if err != nil {
		t.Fatal(err)
	}
	stranger.CA = gw.CA // trusts trustgate, but its certificate is from another CA
	return &env{pki: pki, other: other, files: files, gw: gw, stranger: stranger, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{e.logMu, e.logs}, nil))
}

// checkOneReloadError fails t unless the log holds exactly one failed
// reload, and no key material.
func (e *env) checkOneReloadError(t *testing.T) {
	t.Helper()
	logs := e.logText()
	if n := strings.Count(logs, "does not load; keeping the previous one"); n != 1 {
		t.Errorf("%d reload errors logged for one broken change, want 1:\n%s", n, logs)
	}
	if strings.Contains(logs, "PRIVATE KEY") {
		t.Errorf("the log shows key material:\n%s", logs)
	}
}

func (e *env) logText() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func clientConfig(t *testing.T, c xdstlstest.Client) *tls.Config {
	t.Helper()
	cfg, err := c.TLSConfig("trustgate.internal")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestServerTLSHandshakes(t *testing.T) {
	e := newEnv(t)
	st, err := xdstls.NewServerTLS(e.files, e.logger())
	if err != nil {
		t.Fatal(err)
	}
	addr, results := tlsServer(t, st.Config())
	noCert := e.gw
	noCert.Cert, noCert.Key = "", ""
	tls11 := clientConfig(t, e.gw)
	tls11.MinVersion, tls11.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	tests := map[string]struct {
		cfg            *tls.Config
		wantIdentities []string // nil: the handshake must fail
	}{
		"client certificate from the client CA": {cfg: clientConfig(t, e.gw), wantIdentities: []string{"spiffe://example.org/gw/a", "gw-a"}},
		"no client certificate":                 {cfg: clientConfig(t, noCert)},
		"client certificate from another CA":    {cfg: clientConfig(t, e.stranger)},
		"TLS 1.1":                               {cfg: tls11},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, cerr := dial(addr, tc.cfg)
			got := <-results
			if tc.wantIdentities == nil {
				if cerr == nil || got.err == nil {
					t.Fatalf("handshake succeeded (client error %v, server error %v)", cerr, got.err)
				}
				return
			}
			if cerr != nil || got.err != nil {
				t.Fatalf("client error %v, server error %v", cerr, got.err)
			}
			if len(got.state.VerifiedChains) == 0 {
				t.Fatal("no verified chain")
			}
			if diff := cmp.Diff(tc.wantIdentities, xdstls.Identities(got.state.VerifiedChains[0][0])); diff != "" {
				t.Errorf("identities (-want +got):\n%s", diff)
			}
			if got.state.NegotiatedProtocol != "" && got.state.NegotiatedProtocol != "h2" {
				t.Errorf("ALPN %q", got.state.NegotiatedProtocol)
			}
		})
	}
}

// touch moves a file's modification time forward so that the reload is
// seen however coarse the file system's clock.
func touch(t *testing.T, path string, step int) {
	t.Helper()
	at := time.Now().Add(time.Duration(step) * time.Second)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

func TestServerTLSReloads(t *testing.T) {
	e := newEnv(t)
	st, err := xdstls.NewServerTLS(e.files, e.logger())
	if err != nil {
		t.Fatal(err)
	}
	addr, results := tlsServer(t, st.Config())
	serial := func(cfg *tls.Config) (string, error) {
		cs, cerr := dial(addr, cfg)
		got := <-results
		if err := errors.Join(cerr, got.err); err != nil {
			return "", err
		}
		return cs.PeerCertificates[0].SerialNumber.String(), nil
	}
	first, err := serial(clientConfig(t, e.gw))
	if err != nil {
		t.Fatal(err)
	}

	// A rotated server certificate is served on the next connection.
	if _, err := e.pki.Server("trustgate", true, "trustgate.internal", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	touch(t, e.files.Cert, 1)
	touch(t, e.files.Key, 1)
	second, err := serial(clientConfig(t, e.gw))
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatalf("serial %s after rotation, want a new certificate", second)
	}

	// A new client CA: the other PKI's clients get in, this one's no longer.
	caPEM, err := os.ReadFile(e.other.ClientCA())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.files.ClientCA, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	touch(t, e.files.ClientCA, 2)
	if _, err := serial(clientConfig(t, e.gw)); err == nil {
		t.Error("a client of the old CA still gets in after the client CA changed")
	}
	if _, err := serial(clientConfig(t, e.stranger)); err != nil {
		t.Errorf("a client of the new CA: %v", err)
	}

	// A broken key keeps the last good configuration, logged once.
	if err := os.WriteFile(e.files.Key, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	touch(t, e.files.Key, 3)
	for range 3 {
		got, err := serial(clientConfig(t, e.stranger))
		if err != nil || got != second {
			t.Fatalf("after a broken key: serial %s (%v), want the last good %s", got, err, second)
		}
	}
	e.checkOneReloadError(t)
}

func TestNewServerTLSRejects(t *testing.T) {
	e := newEnv(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(*xdstls.Files){
		"no client CA":          func(f *xdstls.Files) { f.ClientCA = "" },
		"missing key":           func(f *xdstls.Files) { f.Key = filepath.Join(t.TempDir(), "nope") },
		"key of another cert":   func(f *xdstls.Files) { f.Key = e.gw.Key },
		"client CA not PEM":     func(f *xdstls.Files) { f.ClientCA = garbage },
		"certificate not a PEM": func(f *xdstls.Files) { f.Cert = garbage },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			f := e.files
			edit(&f)
			if _, err := xdstls.NewServerTLS(f, e.logger()); err == nil {
				t.Fatal("NewServerTLS accepted it")
			}
		})
	}
}

// A certificate from the client CA whose CN is spelled like a SPIFFE ID,
// without that URI SAN, proves no SPIFFE ID over a real handshake: the
// policy's spiffe:// pattern does not give it that group's labels.
func TestURIShapedCNOverHandshake(t *testing.T) {
	e := newEnv(t)
	const id = "spiffe://example.org/gateway/edge-9"
	forger, err := e.pki.Client(certs.IssueOptions{Name: "forger", CommonName: id, DNSNames: []string{"edge-9.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := xdstls.NewServerTLS(e.files, e.logger())
	if err != nil {
		t.Fatal(err)
	}
	addr, results := tlsServer(t, st.Config())
	if _, err := dial(addr, clientConfig(t, forger)); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	got := <-results
	if got.err != nil || len(got.state.VerifiedChains) == 0 {
		t.Fatalf("server side: %v, %d verified chains", got.err, len(got.state.VerifiedChains))
	}
	if diff := cmp.Diff([]string{"edge-9.example.org"}, xdstls.Identities(got.state.VerifiedChains[0][0])); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	policy := filepath.Join(t.TempDir(), "authz.yaml")
	if err := os.WriteFile(policy, []byte("- identity: spiffe://example.org/gateway/edge-*\n  labels: {app: edge}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := xdstls.NewAuthorizer(policy, e.logger())
	if err != nil {
		t.Fatal(err)
	}
	ctx := peer.NewContext(t.Context(), &peer.Peer{AuthInfo: credentials.TLSInfo{State: got.state}})
	err = a.Authorize(ctx, id, map[string]string{"app": "edge"})
	var d *xdstls.Denial
	if !errors.As(err, &d) || d.DenyReason() != xdstls.ReasonNodeID {
		t.Fatalf("Authorize = %v, want a %s denial", err, xdstls.ReasonNodeID)
	}
}
