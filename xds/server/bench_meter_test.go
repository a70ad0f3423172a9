package server_test

// The meter of the ADS benchmarks: a gRPC stats handler on the server that
// times each proxy's ACK of each change, and counts bytes and responses.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/stats"

	"github.com/trustgate/trustgate/internal/cputime"
)

type goal struct {
	ackOf    string
	newTypes int
}

// round is what the meter saw between arm and the last stream's completion.
type round struct {
	latencies []time.Duration // per stream, from arm to completion
	push      time.Duration   // from arm to the last response written
	cpu       time.Duration   // CPU time of this process (the server)
	bytes     int             // gRPC wire bytes of every response
	responses map[string]int  // responses per type URL
	rounds    int
}

func (r *round) add(o round) {
	r.latencies = append(r.latencies, o.latencies...)
	r.bytes += o.bytes
	r.push += o.push
	r.cpu += o.cpu
	r.rounds += o.rounds
	if r.responses == nil {
		r.responses = map[string]int{}
	}
	for t, n := range o.responses {
		r.responses[t] += n
	}
}

// report adds the per-proxy percentiles and the bytes sent per round.
func (r round) report(b *testing.B) {
	if l := slices.Sorted(slices.Values(r.latencies)); len(l) > 0 {
		pct := func(p float64) float64 { return ms(l[min(len(l)-1, int(p*float64(len(l))))]) }
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
	}
	n := float64(r.rounds)
	b.ReportMetric(float64(r.bytes)/n, "B-sent/op")
	b.ReportMetric(ms(r.push)/n, "push-ms")
	b.ReportMetric(ms(r.cpu)/n, "server-cpu-ms")
}

// streamRec is the meter's record of one ADS stream.
type streamRec struct {
	began time.Time
	sent  map[string]string    // nonce -> type URL, responses of this round
	acked map[string]time.Time // nonce -> time, ACKs seen before their response's stats
	types map[string]bool      // types requested this round
	all   map[string]bool      // types ever requested on the stream
	done  bool
}

type recKey struct{}

// meter is a gRPC stats handler that counts what the server sends and tells
// when every stream reached the round's goal.
type meter struct {
	mu    sync.Mutex
	open  map[*streamRec]bool
	goal  goal
	since time.Time
	want  int
	cur   round
	nacks []string
	done  chan struct{}
	cpu0  time.Duration // CPU time of the process at arm
	last  time.Time     // when the last message was sent or received
}

func newMeter() *meter {
	return &meter{open: map[*streamRec]bool{}, cur: round{responses: map[string]int{}}}
}

// arm starts a round; the returned channel closes when want streams have
// reached g.
func (m *meter) arm(g goal, want int) chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.goal, m.want, m.since, m.nacks, m.cpu0 = g, want, time.Now(), nil, cputime.Self()
	m.cur = round{responses: map[string]int{}, rounds: 1}
	m.done = make(chan struct{})
	for rec := range m.open {
		rec.sent, rec.acked, rec.types, rec.done = map[string]string{}, map[string]time.Time{}, map[string]bool{}, false
	}
	return m.done
}

// wait returns the round once done closes; it fails b on a timeout or a NACK.
func (m *meter) wait(b *testing.B, done chan struct{}) round {
	b.Helper()
	select {
	case <-done:
	case <-time.After(fleetTimeout):
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.nacks) > 0 {
		b.Fatalf("%d NACKs, first: %s", len(m.nacks), m.nacks[0])
	}
	if len(m.cur.latencies) < m.want {
		b.Fatalf("timed out: %d of %d streams reached %+v", len(m.cur.latencies), m.want, m.goal)
	}
	m.cur.cpu = cputime.Self() - m.cpu0
	return m.cur
}

// current returns the round so far.
func (m *meter) current() round {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur.cpu = cputime.Self() - m.cpu0
	return m.cur
}

// typesPerStream returns how many types every open stream asked for: what a
// resumed stream asks for again. It fails b if streams differ.
func (m *meter) typesPerStream(b *testing.B) int {
	b.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := -1
	for rec := range m.open {
		if n >= 0 && len(rec.all) != n {
			b.Fatalf("streams asked for %d and %d types", n, len(rec.all))
		}
		n = len(rec.all)
	}
	return n
}

// streams returns the number of open ADS streams.
func (m *meter) streams() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.open)
}

// TagRPC implements stats.Handler.
func (m *meter) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if !strings.HasPrefix(info.FullMethodName, "/envoy.service.discovery.v3.AggregatedDiscoveryService/") {
		return ctx
	}
	rec := &streamRec{sent: map[string]string{}, acked: map[string]time.Time{}, types: map[string]bool{}, all: map[string]bool{}}
	return context.WithValue(ctx, recKey{}, rec)
}

// HandleRPC implements stats.Handler.
func (m *meter) HandleRPC(ctx context.Context, s stats.RPCStats) {
	rec, ok := ctx.Value(recKey{}).(*streamRec)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = time.Now()
	switch s := s.(type) {
	case *stats.Begin:
		rec.began = s.BeginTime
		m.open[rec] = true
	case *stats.End:
		delete(m.open, rec)
	case *stats.OutPayload:
		typeURL, nonce := responseOf(s.Payload)
		m.cur.bytes += s.WireLength
		m.cur.push = max(m.cur.push, s.SentTime.Sub(m.since))
		m.cur.responses[typeURL]++
		rec.sent[nonce] = typeURL
		// The handler runs after the write: the ACK may have come first.
		if at, ok := rec.acked[nonce]; ok {
			m.acked(rec, typeURL, at)
		}
	case *stats.InPayload:
		typeURL, nonce, nack := requestOf(s.Payload)
		if nack != "" {
			m.nacks = append(m.nacks, nack)
			return
		}
		rec.types[typeURL], rec.all[typeURL] = true, true
		if m.goal.newTypes > 0 && rec.began.After(m.since) && len(rec.types) == m.goal.newTypes {
			m.complete(rec, s.RecvTime)
		}
		if nonce == "" {
			return
		}
		if t, ok := rec.sent[nonce]; ok {
			m.acked(rec, t, s.RecvTime)
		} else {
			rec.acked[nonce] = s.RecvTime
		}
	}
}

// acked records an ACK of a response of typeURL sent this round; m.mu is held.
func (m *meter) acked(rec *streamRec, typeURL string, at time.Time) {
	if m.goal.ackOf == typeURL {
		m.complete(rec, at)
	}
}

// complete records a stream reaching the goal; m.mu is held.
func (m *meter) complete(rec *streamRec, at time.Time) {
	if rec.done || m.done == nil {
		return
	}
	rec.done = true
	m.cur.latencies = append(m.cur.latencies, at.Sub(m.since))
	if len(m.cur.latencies) == m.want {
		close(m.done)
	}
}

// TagConn implements stats.Handler.
func (m *meter) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

// HandleConn implements stats.Handler.
func (m *meter) HandleConn(context.Context, stats.ConnStats) {}

func responseOf(p any) (typeURL, nonce string) {
	switch r := p.(type) {
	case *discoveryv3.DiscoveryResponse:
		return r.GetTypeUrl(), r.GetNonce()
	case *discoveryv3.DeltaDiscoveryResponse:
		return r.GetTypeUrl(), r.GetNonce()
	}
	return "", ""
}

func nackOf(s *status.Status) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf("code %d: %s", s.GetCode(), s.GetMessage())
}

// requestOf returns a request's type, the nonce it answers and, for a NACK,
// its error detail.
func requestOf(p any) (typeURL, nonce, nack string) {
	switch r := p.(type) {
	case *discoveryv3.DiscoveryRequest:
		return r.GetTypeUrl(), r.GetResponseNonce(), nackOf(r.GetErrorDetail())
	case *discoveryv3.DeltaDiscoveryRequest:
		return r.GetTypeUrl(), r.GetResponseNonce(), nackOf(r.GetErrorDetail())
	}
	return "", "", ""
}

// BenchmarkMemoryPerProxy measures the server's heap per connected proxy,
// each holding a complete configuration, at 1000 proxies connected as two
// fleets of 500. B/proxy is MemStats.HeapInuse after a GC, minus the same
// before any proxy, over 1000; live-B/proxy is the same for the live objects
// alone (no fragmentation); marginal-live-B/proxy is what the second 500
// added, over 500 (the slope, without fixed costs); client-live-B/proxy is
// a fake Envoy's own, in the child. ns/op is the time to connect the fleets.
