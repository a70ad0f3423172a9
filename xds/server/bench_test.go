package server_test

// ADS load benchmarks: a change reaching M fake Envoys (a route change, and a
// certificate rotation), memory per connected proxy, and a reconnect storm. The configuration is real: benchHosts mTLS
// hosts written as YAML and loaded by compile.Load, as `trustgate serve`
// does. The server runs here; the fake Envoys (envoytest, over loopback
// gRPC) run in a child process at the lowest CPU priority (remoteFleet): in
// this process their walks of every Any took 61% of the CPU of a 1000-proxy
// fan-out, and their heap would hide the server's. A gRPC stats handler on
// the server (meter) times each proxy's ACK and counts the bytes sent.
// `go test ./xds/server` without -bench runs none of this.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// benchHosts is the size of the configuration every proxy holds: one
// listener with benchHosts filter chains, benchHosts route configurations,
// 2·benchHosts clusters and two secrets (about 61 kB of LDS, 47 kB of RDS and
// 21 kB of CDS on the wire, per docs/performance.md).
const benchHosts = 100

// fleetTimeout bounds every wait of a benchmark.
const fleetTimeout = 3 * time.Minute

// benchLabels select the Gateway: every fake Envoy is in one proxy group.
var benchLabels = map[string]string{"istio": "ingressgateway"}

// benchConfig is a configuration directory whose routes and certificate the
// benchmark changes between reloads.
type benchConfig struct {
	dir, secrets string
	rev          int
}

func newBenchConfig(b *testing.B) *benchConfig {
	b.Helper()
	c := &benchConfig{dir: b.TempDir()}
	c.secrets = filepath.Join(c.dir, "secrets")
	if err := certs.Init(c.secrets, certs.InitOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := c.issue(false); err != nil {
		b.Fatal(err)
	}
	if err := c.write(); err != nil {
		b.Fatal(err)
	}
	return c
}

// issue (re)issues the wildcard server certificate: a rotation when replace.
func (c *benchConfig) issue(replace bool) error {
	_, err := certs.Issue(c.secrets, certs.KindServer, certs.IssueOptions{
		Name: "wildcard", Hosts: []string{"*.example.com"}, Replace: replace,
	})
	return err
}

// write writes benchHosts hosts, each its own Gateway server (own filter
// chain and route configuration) with a VirtualService of two routes to its
// own backends, as compile/bench_test.go does. Host h0's first prefix
// carries c.rev, so a new rev changes one route configuration and nothing
// else.
func (c *benchConfig) write() error {
	var y strings.Builder
	y.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n")
	for i := range benchHosts {
		fmt.Fprintf(&y, "  - name: h%d\n    port: {number: 443, name: https-%d, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: wildcard, caCertCredentialName: client-ca}\n", i, i, i)
	}
	for i := range benchHosts {
		prefix := "/api"
		if i == 0 {
			prefix = fmt.Sprintf("/api-r%d", c.rev)
		}
		fmt.Fprintf(&y, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h%d, namespace: edge}\nspec:\n  hosts: [h%d.example.com]\n  gateways: [gw]\n  http:\n"+
			"  - match: [{uri: {prefix: %s}}]\n    route: [{destination: {host: api-%d.internal, port: {number: 8080}}}]\n    timeout: 5s\n"+
			"  - route: [{destination: {host: web-%d.internal, port: {number: 8080}}}]\n", i, i, prefix, i, i)
	}
	return os.WriteFile(filepath.Join(c.dir, "scale.yaml"), []byte(y.String()), 0o644)
}

// load is the server's Loader, as `trustgate serve` wires it.
func (c *benchConfig) load() (server.Config, error) {
	return compile.Load(model.LoadOptions{Paths: []string{filepath.Join(c.dir, "scale.yaml")}, SecretsDirs: []string{c.secrets}}, compile.ForServe())
}

// routeChange changes one route of one host.
func (c *benchConfig) routeChange() error {
	c.rev++
	return c.write()
}

// rotation replaces the wildcard certificate: only its secret changes.
func (c *benchConfig) rotation() error { return c.issue(true) }

// benchServer is a server on 127.0.0.1:0 with a meter, serving cfg; it
// stops when the benchmark ends. The configuration is loaded before it
// returns.
type benchServer struct {
	srv   *server.Server
	addr  string
	meter *meter
	cfg   *benchConfig
}

func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	bs := &benchServer{meter: newMeter(), cfg: newBenchConfig(b)}
	bs.srv, bs.addr = serve(b, server.Options{
		Loader:            bs.cfg.load,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		GRPCServerOptions: []grpc.ServerOption{grpc.StatsHandler(bs.meter)},
	}, nil)
	return bs
}

// change applies a change to the files and reloads; the meter is armed for
// ACKs of typeURL from want streams first. It returns when every stream
// ACKed, with the reload's duration.
func (bs *benchServer) change(b *testing.B, change func() error, typeURL string, want int) (round, time.Duration) {
	b.Helper()
	if err := change(); err != nil {
		b.Fatal(err)
	}
	done := bs.meter.arm(goal{ackOf: typeURL}, want)
	start := time.Now()
	if err := bs.srv.Reload(context.Background()); err != nil {
		b.Fatal(err)
	}
	reload := time.Since(start)
	return bs.meter.wait(b, done), reload
}

// fleet is fake Envoys, each with its own connection, in one proxy group.
var protocolNames = []string{"sotw", "delta"}

// BenchmarkFanOut measures a change reaching M proxies of one group: a
// route change (one route of one host) and a certificate rotation (the
// wildcard certificate every listener uses, which only SDS carries). ns/op
// lasts from Reload (read, validate, translate, install) until the server
// has every proxy's ACK of the changed type.
func BenchmarkFanOut(b *testing.B) {
	changes := map[string]struct {
		apply   func(*benchConfig) error
		typeURL string
	}{
		"route":       {(*benchConfig).routeChange, envoytest.RouteType},
		"certificate": {(*benchConfig).rotation, envoytest.SecretType},
	}
	cases := []struct {
		change  string
		proxies int
	}{{"route", 10}, {"route", 100}, {"route", 1000}, {"certificate", 100}}
	for _, proto := range protocolNames {
		for _, tc := range cases {
			ch := changes[tc.change]
			b.Run(fmt.Sprintf("%s/%s/proxies=%d", proto, tc.change, tc.proxies), func(b *testing.B) {
				bs := startBenchServer(b)
				startRemoteFleet(b, bs, 0, tc.proxies, proto == "delta")
				var all round
				var reloads time.Duration
				b.ResetTimer()
				for range b.N {
					r, reload := bs.change(b, func() error { return ch.apply(bs.cfg) }, ch.typeURL, tc.proxies)
					all.add(r)
					reloads += reload
				}
				b.StopTimer()
				all.report(b)
				b.ReportMetric(ms(reloads)/float64(b.N), "reload-ms")
				onlyTypes(b, all, ch.typeURL)
			})
		}
	}
}

// onlyTypes fails when a change sent a type other than typeURL: a
// certificate rotation must not resend listeners (which would drain them)
// nor routes.
func onlyTypes(b *testing.B, r round, typeURL string) {
	b.Helper()
	for t, n := range r.responses {
		if t != typeURL {
			b.Errorf("%d responses of %s sent for a change of %s only", n, t, typeURL)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// goal is what completes a stream in a round: its ACK of a response of type
// ackOf sent after the round began, or, for a stream opened after the round
// began, requests for newTypes distinct types (a resumed stream re-asked for
// everything it held).
func BenchmarkMemoryPerProxy(b *testing.B) {
	const m = 1000
	for _, proto := range protocolNames {
		b.Run(fmt.Sprintf("%s/proxies=%d", proto, m), func(b *testing.B) {
			bs := startBenchServer(b)
			var inuse, live, marginal, client float64
			for range b.N {
				base := heapAfterGC()
				first := startRemoteFleet(b, bs, 0, m/2, proto == "delta")
				half := heapAfterGC()
				second := startRemoteFleet(b, bs, m/2, m/2, proto == "delta")
				full := heapAfterGC()
				inuse += float64(full.inuse-base.inuse) / m
				live += float64(full.live-base.live) / m
				marginal += float64(full.live-half.live) / (m / 2)
				client += float64(first.clientBytes+second.clientBytes) / 2
				if err := errors.Join(first.stop(), second.stop()); err != nil {
					b.Fatal(err)
				}
				waitStreams(b, bs.meter, 0)
			}
			n := float64(b.N)
			b.ReportMetric(inuse/n, "B/proxy")
			b.ReportMetric(live/n, "live-B/proxy")
			b.ReportMetric(marginal/n, "marginal-live-B/proxy")
			b.ReportMetric(client/n, "client-live-B/proxy")
		})
	}
}

// BenchmarkReconnectStorm has 1000 proxies drop their streams and come back
// at once. "fresh": they come back empty, like restarted Envoys, and ns/op
// lasts until every one holds a complete configuration again. "resume": they
// come back holding their configuration, like Envoys whose control plane
// restarted, and ns/op lasts until the server has every new stream's
// requests for every type. The fleet runs in a child process, so peak-heap-MB
// is the server's alone.
func BenchmarkReconnectStorm(b *testing.B) {
	const m = 1000
	for _, proto := range protocolNames {
		for _, kind := range []string{"fresh", "resume"} {
			b.Run(fmt.Sprintf("%s/%s/proxies=%d", proto, kind, m), func(b *testing.B) {
				bs := startBenchServer(b)
				f := startRemoteFleet(b, bs, 0, m, proto == "delta")
				types := bs.meter.typesPerStream(b)
				steady := heapAfterGC().inuse
				var all round
				var peak int64
				b.ResetTimer()
				for range b.N {
					cmd, g, want := "reconnect", goal{newTypes: types}, m
					if kind == "fresh" {
						b.StopTimer()
						if err := f.do("drop"); err != nil {
							b.Fatal(err)
						}
						waitStreams(b, bs.meter, 0)
						b.StartTimer()
						cmd, g, want = "dial", goal{}, 0 // the fleet says when it is complete
					}
					stop := make(chan struct{})
					peakc := samplePeak(stop)
					done := bs.meter.arm(g, want)
					if err := f.do(cmd); err != nil {
						b.Fatal(err)
					}
					if want > 0 {
						all.add(bs.meter.wait(b, done))
					} else {
						all.add(bs.meter.current())
					}
					close(stop)
					peak = max(peak, <-peakc)
				}
				b.StopTimer()
				all.report(b)
				b.ReportMetric(float64(steady)/(1<<20), "steady-heap-MB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			})
		}
	}
}

// heap is the heap in use and the live heap, in bytes.
type heap struct{ inuse, live int64 }

func readHeap() heap {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	metrics.Read(s)
	return heap{inuse: int64(s[0].Value.Uint64() + s[1].Value.Uint64()), live: int64(s[2].Value.Uint64())}
}

// heapAfterGC collects twice: what sync.Pools hold survives the first
// collection (in their victim caches) and would count as live.
func heapAfterGC() heap {
	runtime.GC()
	runtime.GC()
	return readHeap()
}

// samplePeak samples the heap in use every millisecond until stop closes, then
// sends the highest value.
func samplePeak(stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var peak int64
		for {
			peak = max(peak, readHeap().inuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
