package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// Bounds on what bad clients may leave behind once they are gone: the
// well-behaved proxy's stream and the test's own bookkeeping stay.
const (
	goroutineSlack = 8
	heapSlack      = 16 << 20
)

// siege is a server over mutual TLS (with testPolicy) with a well-behaved
// proxy, gw-1, connected and its goroutine and heap baseline taken; "bad"
// is another proxy the policy knows, whose certificate the attacks use.
type siege struct {
	t     *testing.T
	h     *harness
	m     *mtls
	good  *envoytest.Client
	round int

	baseGoroutines int
	baseHeap       uint64
}

func newSiege(t *testing.T) *siege {
	t.Helper()
	m := newMTLS(t, "gw-1", "bad")
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	opts := h.options()
	// Hundreds of connections are logged at Info; the refusals are Warn.
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h.start(m.options(opts, testPolicy))
	s := &siege{t: t, h: h, m: m, good: m.envoy(h, "gw-1", envoytest.Options{Labels: gateway})}
	if _, err := s.good.WaitComplete(timeout); err != nil {
		t.Fatal(err)
	}
	s.alive() // a first round trip, so that the baseline includes its state
	s.baseGoroutines, s.baseHeap = settle()
	return s
}

// settle collects garbage and returns the goroutine count and heap in use.
func settle() (int, uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse
}

// alive proves that gw-1 is still served: a route edit reaches it, and the
// server records its ACK of the new routes.
func (s *siege) alive() {
	s.t.Helper()
	s.round++
	prefix := fmt.Sprintf("/alive-%d", s.round)
	s.h.set(func(h *harness) { h.spec.Prefixes = []string{"/", prefix} })
	s.h.mustReload()
	v, err := s.good.Wait(timeout, "the route "+prefix, func(v envoytest.View) bool {
		routes := v.Routes[fixture.RouteName].GetVirtualHosts()[0].GetRoutes()
		return len(routes) == 2 && routes[1].GetMatch().GetPrefix() == prefix
	})
	if err != nil {
		s.t.Fatal(err)
	}
	version := v.Versions[envoytest.RouteType]
	eventually(s.t, "gw-1's ACK of "+prefix, func() error {
		for _, p := range s.h.proxies() {
			if p.NodeID == "gw-1" && p.Types["route"].AckedVersion == version {
				return nil
			}
		}
		return fmt.Errorf("route version %.12s not ACKed by gw-1", version)
	})
}

// recovered waits until only gw-1 is connected and the goroutines and heap
// are back near the baseline.
func (s *siege) recovered() {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond) // GC is not free: poll slowly
	defer tick.Stop()
	for {
		g, heap := settle()
		ps := s.h.proxies()
		var problem string
		switch {
		case len(ps) != 1:
			problem = fmt.Sprintf("%d proxies connected", len(ps))
		case g > s.baseGoroutines+goroutineSlack:
			problem = fmt.Sprintf("%d goroutines, baseline %d", g, s.baseGoroutines)
		case heap > s.baseHeap+heapSlack:
			problem = fmt.Sprintf("heap in use %d MiB, baseline %d MiB", heap>>20, s.baseHeap>>20)
		}
		if problem == "" {
			s.t.Logf("recovered: %d goroutines (baseline %d), heap %d MiB (baseline %d MiB)", g, s.baseGoroutines, heap>>20, s.baseHeap>>20)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			s.t.Fatalf("not recovered after the bad clients left: %s\n%s", problem, buf[:runtime.Stack(buf, true)])
		}
		<-tick.C
	}
}

// conn is a connection with the "bad" proxy's certificate; the returned
// function closes it.
func (s *siege) conn() (*grpc.ClientConn, func()) {
	s.t.Helper()
	c, err := grpc.NewClient(s.h.addr, s.m.dial("bad"))
	if err != nil {
		s.t.Fatal(err)
	}
	return c, func() {
		if err := c.Close(); err != nil {
			s.t.Error(err)
		}
	}
}

// stream opens an ADS stream on c that ends with ctx.
func (s *siege) stream(ctx context.Context, c *grpc.ClientConn, delta bool) adsStream {
	s.t.Helper()
	st, err := openOn(ctx, c, delta)
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

var badNode = node(spiffeID("bad"), gateway)
