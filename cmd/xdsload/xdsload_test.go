package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
)

// inProcess serves w with a server in this process, wired as `trustgate
// serve` wires it, behind a serverProc whose "child" is this process.
func inProcess(t *testing.T, w *workload) *serverProc {
	t.Helper()
	opts := model.LoadOptions{Paths: []string{w.config}, SecretsDirs: []string{w.secrets}}
	src, err := file.New(file.Options{
		Input: opts,
		Load:  func() (server.Config, error) { return compile.Load(opts, compile.ForServe()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	xdsLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ctx, xdsLis, adminLis); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	s := &serverProc{cmd: &exec.Cmd{Process: self}, xds: xdsLis.Addr().String(), admin: "http://" + adminLis.Addr().String(), groupKey: w.groupKey()}
	for {
		if code, err := s.get(ctx, "/readyz", nil); err == nil && code == http.StatusOK {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMeasure runs the tool's connect and change phases against a server:
// every client reaches the configuration and every change, and only the
// changed type is reported.
func TestMeasure(t *testing.T) {
	tests := map[string]struct {
		delta     bool
		change    string
		wantTypes []string
	}{
		"sotw, route change":  {change: "route", wantTypes: []string{resource.RouteType}},
		"delta, route change": {delta: true, change: "route", wantTypes: []string{resource.RouteType}},
		"sotw, certificate":   {change: "cert", wantTypes: []string{resource.SecretType}},
		"delta, certificate":  {delta: true, change: "cert", wantTypes: []string{resource.SecretType}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, err := newWorkload(t.TempDir(), scalecfg.Options{Hosts: 5, Routes: 2})
			if err != nil {
				t.Fatal(err)
			}
			srv := inProcess(t, w)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := config{clients: 4, parallel: 2, delta: tc.delta, changes: 2, change: tc.change, settleTime: 10 * time.Millisecond}
			rep, err := measure(ctx, c, w, srv)
			if err != nil {
				t.Fatalf("measure: %v", err)
			}
			if rep.Connect.Max <= 0 || rep.ConnectBytes <= 0 || rep.ConnectClientsCPUMs <= 0 {
				t.Errorf("connect figures missing: %+v, %d bytes, clients' CPU %.1f ms", rep.Connect, rep.ConnectBytes, rep.ConnectClientsCPUMs)
			}
			if len(rep.Changes) != c.changes {
				t.Fatalf("%d changes reported, want %d", len(rep.Changes), c.changes)
			}
			for i, r := range rep.Changes {
				if !slices.Equal(r.Types, tc.wantTypes) {
					t.Errorf("change %d changed %v, want %v", i+1, r.Types, tc.wantTypes)
				}
				if r.Bytes <= 0 || r.FromReload.Max <= 0 {
					t.Errorf("change %d: %d bytes, from reload %+v", i+1, r.Bytes, r.FromReload)
				}
				// The reload starts after the write.
				if r.FromWrite.Max < r.FromReload.Max {
					t.Errorf("change %d: from write %v ms < from reload %v ms", i+1, r.FromWrite.Max, r.FromReload.Max)
				}
			}
		})
	}
}

// buildTrustgate builds cmd/trustgate into the test's temporary directory.
func buildTrustgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "trustgate")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/trustgate")
	cmd.Dir = "../.." // the repository root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/trustgate: %v\n%s", err, out)
	}
	return bin
}

// TestRestart runs the tool with -restart against `trustgate serve`: every
// client resumes on the new server, which counts every stream, sends far
// less than the connect phase (the clients presented what they hold), and
// serves the change that follows to every client.
func TestRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs trustgate")
	}
	bin := buildTrustgate(t)
	for _, delta := range []bool{false, true} {
		t.Run(protocolName(delta), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c := config{trustgate: bin, hosts: 10, routes: 1, clients: 5, parallel: 5, delta: delta, changes: 1, change: "route",
				settleTime: 10 * time.Millisecond, dir: t.TempDir(), restart: true}
			rep, err := load(ctx, c, t.Output())
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			r := rep.Restart
			if r == nil {
				t.Fatal("no restart reported")
			}
			t.Logf("connect: %d bytes; restart: %d bytes, %+v", rep.ConnectBytes, r.Bytes, *r)
			if r.Resumed != c.clients || r.Streams != c.clients {
				t.Errorf("%d clients resumed, the server counts %d streams; want %d", r.Resumed, r.Streams, c.clients)
			}
			if r.Bytes >= rep.ConnectBytes/2 {
				t.Errorf("the restart sent %d bytes, the connect phase %d: the clients did not resume what they held", r.Bytes, rep.ConnectBytes)
			}
			if r.StartMs <= 0 || r.StreamsMs <= 0 || r.CPUMs <= 0 || r.RSSPeak <= 0 {
				t.Errorf("restart figures missing: %+v", *r)
			}
			// change returns once every client ACKed the change, or fails.
			if len(rep.Changes) != 1 || rep.Changes[0].Bytes <= 0 || rep.Changes[0].FromReload.Max <= 0 {
				t.Errorf("changes after the restart: %+v", rep.Changes)
			}
		})
	}
}

// TestBackoff: the clients retry as Envoy's JitteredExponentialBackOffStrategy
// of 500 ms and 30 s: within an interval that doubles up to the maximum,
// and back to the first after a response.
func TestBackoff(t *testing.T) {
	b := newBackoff()
	for i, limit := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		for range 100 {
			c := b
			if d := c.next(); d < 0 || d >= limit {
				t.Fatalf("try %d: delay %v, want within [0, %v)", i+1, d, limit)
			}
		}
		b.next()
	}
	b.reset()
	if b.interval != retryInitial {
		t.Errorf("after reset the interval is %v, want %v", b.interval, retryInitial)
	}
}

// TestFlags: out-of-bounds runs are refused before anything starts.
func TestFlags(t *testing.T) {
	tests := map[string][]string{
		"too many clients": {"-clients", "20001"},
		"no clients":       {"-clients", "0"},
		"too many changes": {"-changes", "101"},
		"unknown change":   {"-change", "listener"},
		"no parallelism":   {"-parallel", "0"},
		"extra argument":   {"x"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			if code := run(args, &discard{}, &discard{}); code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
		})
	}
}

type discard struct{}

func (*discard) Write(b []byte) (int, error) { return len(b), nil }
