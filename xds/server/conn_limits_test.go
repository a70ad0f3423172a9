package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// lockedBuffer collects a server's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.SplitSeq(l.b.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// closedByServer reports whether the server closed c within d: a read ends
// with EOF or a reset rather than the deadline.
func closedByServer(c net.Conn, d time.Duration) bool {
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		return false
	}
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout()
}

// healthz GETs /healthz over the real admin listener.
func (h *harness) healthz() error {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + h.adminAddr + "/healthz")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz: %s", resp.Status)
	}
	return nil
}

func (h *harness) waitConnections(n int) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("%d xDS connections", n), func() error {
		if got := h.counter("trustgate_xds_connections"); got != float64(n) {
			return fmt.Errorf("trustgate_xds_connections = %v", got)
		}
		return nil
	})
}

// TestConnectionCap floods the ADS listener with connections past
// MaxConnections: the extra ones are closed at once and counted, a few log
// lines say so, the open ones never exceed the cap, and the admin endpoint
// keeps answering throughout. A proxy gets in once a place is free.
func TestConnectionCap(t *testing.T) {
	const capacity, flood = 20, 500
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	var logs lockedBuffer
	opts := h.options()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	opts.MaxConnections = capacity
	opts.IdleTimeout = time.Hour
	h.start(opts)

	held := make([]net.Conn, capacity)
	for i := range held {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		held[i] = c
	}
	h.waitConnections(capacity)

	var (
		over     atomic.Int32 // gauge samples above the cap
		kept     atomic.Int32 // flood connections the server did not close
		admin    atomic.Int32 // /healthz failures
		stop     = make(chan struct{})
		sampling sync.WaitGroup
	)
	sampling.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if h.counter("trustgate_xds_connections") > capacity {
				over.Add(1)
			}
			if err := h.healthz(); err != nil {
				t.Log(err)
				admin.Add(1)
			}
		}
	})
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range work {
				c, err := net.Dial("tcp", h.addr)
				if err != nil {
					t.Error(err)
					continue
				}
				if !closedByServer(c, timeout) {
					kept.Add(1)
				}
				_ = c.Close()
			}
		})
	}
	for i := range flood {
		work <- i
	}
	close(work)
	wg.Wait()
	close(stop)
	sampling.Wait()

	if n := kept.Load(); n != 0 {
		t.Errorf("%d connections over the cap were kept open", n)
	}
	if n := over.Load(); n != 0 {
		t.Errorf("%d samples saw more than %d connections", n, capacity)
	}
	if n := admin.Load(); n != 0 {
		t.Errorf("/healthz failed %d times during the flood", n)
	}
	if got := h.counter(`trustgate_xds_connections_closed_total{reason="max_connections"}`); got != flood {
		t.Errorf("refusals counted: %v, want %d", got, flood)
	}
	lines := logs.lines("over --max-connections")
	if len(lines) == 0 || len(lines) > 5 {
		t.Errorf("%d log lines about refused connections, want a few:\n%s", len(lines), strings.Join(lines, "\n"))
	}

	// A proxy gets in once a place is free.
	if err := held[0].Close(); err != nil {
		t.Fatal(err)
	}
	h.waitConnections(capacity - 1)
	h.ready(t, envoytest.Options{})
}

// TestIdleConnectionsClosed opens connections that open no stream — bare
// TCP, and gRPC connections that finished HTTP/2 but never call — and one
// whose stream ended: each is closed after IdleTimeout and counted, while
// a proxy with its stream open stays connected and served.
func TestIdleConnectionsClosed(t *testing.T) {
	const idle = 300 * time.Millisecond
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	opts := h.options()
	opts.IdleTimeout = idle
	h.start(opts)
	e := h.ready(t, envoytest.Options{})

	var raw []net.Conn
	for range 30 {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		raw = append(raw, c)
	}
	var quiet []*grpc.ClientConn
	for range 10 {
		c, err := grpc.NewClient(h.addr, plaintext)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		c.Connect()
		quiet = append(quiet, c)
	}
	// One that had a stream, which ended.
	ended, err := grpc.NewClient(h.addr, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ended.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	st, err := openOn(ctx, ended, false)
	if err == nil {
		err = st.send(node("brief", gateway), envoytest.ClusterType)
	}
	if err == nil {
		_, _, err = st.recv()
	}
	cancel()
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	for i, c := range raw {
		if !closedByServer(c, idle+timeout) {
			t.Fatalf("bare connection %d still open after %v", i, time.Since(start))
		}
	}
	for i, c := range quiet {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		for s := c.GetState(); s == connectivity.Ready || s == connectivity.Connecting; s = c.GetState() {
			if !c.WaitForStateChange(ctx, s) {
				t.Fatalf("gRPC connection %d still %v after %v", i, s, time.Since(start))
			}
		}
		cancel()
	}
	h.waitConnections(1) // the proxy's
	if took := time.Since(start); took > idle+timeout {
		t.Errorf("idle connections closed after %v, want about %v", took, idle)
	}
	if got := h.counter(`trustgate_xds_connections_closed_total{reason="idle_timeout"}`); got != 41 {
		t.Errorf("idle closes counted: %v, want 41", got)
	}
	// The proxy, idle for many timeouts but with its stream open, is served.
	h.set(func(h *harness) { h.spec.Prefixes = []string{"/", "/later"} })
	h.mustReload()
	if _, err := e.Wait(timeout, "the route /later", func(v envoytest.View) bool {
		return len(v.Routes[fixture.RouteName].GetVirtualHosts()[0].GetRoutes()) == 2
	}); err != nil {
		t.Fatal(err)
	}
}

// TestStreamCap refuses ADS streams past MaxStreams, whatever connection
// they come on, with ResourceExhausted, a log line and a metric.
func TestStreamCap(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	opts := h.options()
	opts.MaxStreams = 3
	h.start(opts)
	var proxies []*envoytest.Client
	for i := range 3 {
		e := h.ready(t, envoytest.Options{NodeID: fmt.Sprint("gw-", i), Delta: i == 1})
		proxies = append(proxies, e)
	}
	s := openADS(t, h.addr, false, plaintext)
	if err := s.send(node("gw-4", gateway), envoytest.ClusterType); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if st := s.ended(); st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "--max-streams") {
		t.Fatalf("fourth stream: %v, want ResourceExhausted naming --max-streams", st)
	}
	if got := h.counter(`trustgate_xds_denied_streams_total{reason="max_streams"}`); got != 1 {
		t.Errorf("max_streams refusals = %v, want 1", got)
	}
	// Once a proxy leaves, a stream gets in, as Envoy's retries would.
	if err := proxies[0].Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a stream admitted", func() error {
		s := openADS(t, h.addr, false, plaintext)
		if err := s.send(node("gw-4", gateway), envoytest.ClusterType); err != nil {
			return err
		}
		_, _, err := s.recv()
		return err
	})
}
