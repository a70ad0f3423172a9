package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/translate"
)

// timeout bounds every wait; tests wait on conditions, never on time.
const timeout = 10 * time.Second

// protocols runs a test for SotW and for delta.
var protocols = map[string]bool{"sotw": false, "delta": true}

// fakeConfig is a Config returning hand-built resources and counting its
// Compile calls per group.
type fakeConfig struct {
	res     *translate.Resources
	err     error // returned by Compile
	compile *compileCounter
}

func (c *fakeConfig) Compile(l map[string]string) (*translate.Resources, error) {
	c.compile.add(labelset.Key(l))
	if c.err != nil {
		return nil, c.err
	}
	return fixture.Clone(c.res), nil
}

type compileCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *compileCounter) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[key]++
}

func (c *compileCounter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// harness is a running server whose Loader serves what the test sets.
type harness struct {
	t         *testing.T
	srv       *server.Server
	addr      string
	adminAddr string // the admin endpoints over real HTTP
	pki       *fixture.PKI
	compiles  *compileCounter

	mu      sync.Mutex
	spec    fixture.Spec
	edit    func(*translate.Resources) // applied after building spec
	loadErr error
	compErr error
}

func newHarness(t *testing.T, spec fixture.Spec) *harness {
	t.Helper()
	pki, err := fixture.NewPKI(t.TempDir(), "test-ca", "gw.example.com", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	spec.PKI = pki
	return &harness{t: t, pki: pki, spec: spec, compiles: &compileCounter{n: map[string]int{}}}
}

// load is the harness's Loader.
func (h *harness) load() (server.Config, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loadErr != nil {
		return nil, h.loadErr
	}
	res, err := fixture.Resources(h.spec)
	if err != nil {
		return nil, err
	}
	if h.edit != nil {
		h.edit(res)
	}
	return &fakeConfig{res: res, err: h.compErr, compile: h.compiles}, nil
}

// set changes what the next load returns.
func (h *harness) set(f func(h *harness)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

func (h *harness) options() server.Options {
	return server.Options{Loader: h.load, Logger: testLogger(h.t)}
}

// start runs a server with opts, ADS and admin on 127.0.0.1:0, until the
// test ends.
func (h *harness) start(opts server.Options) {
	h.t.Helper()
	adminLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	h.adminAddr = adminLis.Addr().String()
	h.srv, h.addr = serve(h.t, opts, adminLis)
}

// serve runs a server with opts on 127.0.0.1:0, and its admin handler on
// admin (nil: none), until the test or benchmark ends; it returns the
// server and its xDS address.
func serve(tb testing.TB, opts server.Options, admin net.Listener) (*server.Server, string) {
	tb.Helper()
	srv, err := server.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, admin) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return srv, lis.Addr().String()
}

func (h *harness) reload() error {
	return h.srv.Reload(context.Background())
}

func (h *harness) mustReload() {
	h.t.Helper()
	if err := h.reload(); err != nil {
		h.t.Fatalf("Reload: %v", err)
	}
}

// envoy connects a fake Envoy that is closed when the test ends.
func (h *harness) envoy(opts envoytest.Options) *envoytest.Client {
	h.t.Helper()
	return dialEnvoy(h.t, h.addr, opts)
}

// ready connects a fake Envoy (envoy) and waits until it holds a complete
// configuration, failing t otherwise.
func (h *harness) ready(t *testing.T, opts envoytest.Options) *envoytest.Client {
	t.Helper()
	e := h.envoy(opts)
	if _, err := e.WaitComplete(timeout); err != nil {
		t.Fatal(err)
	}
	return e
}

func dialEnvoy(t *testing.T, addr string, opts envoytest.Options) *envoytest.Client {
	t.Helper()
	if opts.NodeID == "" {
		opts.NodeID = "gw-1"
	}
	if opts.Labels == nil {
		opts.Labels = map[string]string{"app": "gateway"}
	}
	c, err := envoytest.Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing fake Envoy: %v", err)
		}
	})
	return c
}

// admin performs a GET on the admin handler.
func (h *harness) admin(path string) (int, string) {
	h.t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = "localhost:9902" // httptest's default, example.com, is refused
	h.srv.AdminHandler().ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return rec.Code, string(body)
}

// reloadStatus decodes /debug/reload.
func (h *harness) reloadStatus() server.ReloadStatus {
	h.t.Helper()
	code, body := h.admin("/debug/reload")
	if code != http.StatusOK {
		h.t.Fatalf("/debug/reload: %d %s", code, body)
	}
	var st server.ReloadStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

// eventually polls cond until it returns nil or the timeout passes: for
// server-side state that has no notification of its own.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		<-tick.C
	}
}

// metric returns the line of a metric sample in the /metrics output.
func (h *harness) metric(prefix string) (string, error) {
	code, body := h.admin("/metrics")
	if code != http.StatusOK {
		return "", errors.New(body)
	}
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, prefix+" ") {
			return line, nil
		}
	}
	return "", errors.New("no sample " + prefix)
}

// testLogger logs to the test's log, so failures show the server's view.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
