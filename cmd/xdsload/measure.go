package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/trustgate/trustgate/internal/cputime"
)

// report is what a run measured. Durations are in milliseconds.
type report struct {
	Protocol string `json:"protocol"`
	Hosts    int    `json:"hosts"`
	Clients  int    `json:"clients"`
	Parallel int    `json:"parallel"`
	// Connect is the clients' first syncs, Parallel at a time: each
	// client's time from dialling to ACKing every type's current version.
	Connect latencies `json:"connect"`
	// ConnectMs is the whole connect phase; ConnectCPUMs the server's CPU
	// during it, ConnectClientsCPUMs this process's (the clients', which
	// share the machine's cores with the server); ConnectBytes what the
	// clients received.
	ConnectMs           float64 `json:"connect_ms"`
	ConnectCPUMs        float64 `json:"connect_server_cpu_ms"`
	ConnectClientsCPUMs float64 `json:"connect_clients_cpu_ms"`
	ConnectBytes        int64   `json:"connect_bytes"`
	// Minor page faults during the connect phase, the server's and the
	// clients', and the clients' peak resident memory: what the clients
	// hold of the responses in flight, touched for the first time.
	ConnectFaults        int64 `json:"connect_server_faults"`
	ConnectClientsFaults int64 `json:"connect_clients_faults"`
	ClientsPeakRSS       int64 `json:"clients_rss_peak"`
	// ClientsHugePages: the clients' heap was backed by transparent huge
	// pages (-huge-pages, internal/hugeheap).
	ClientsHugePages bool `json:"clients_huge_pages"`
	// Resident memory of the server before the clients (once settled, as
	// RSSSettled, with -rss-wait), with them (measured half a second after
	// the connect phase), and its peak (with -restart, the higher of the two
	// servers').
	RSSBefore       int64   `json:"rss_before"`
	RSSConnected    int64   `json:"rss_connected"`
	RSSPeak         int64   `json:"rss_peak"`
	RSSPerClientKiB float64 `json:"rss_per_client_kib"`
	// RSS once the connect phase's garbage is returned to the system: the
	// server's resident memory polled every half second after the
	// connected figure until it has not fallen by 1% for 3 s (or -rss-wait
	// passed), and how long that took from the connected figure. The Go
	// runtime returns freed pages in the background, paced, so a burst's
	// garbage stays resident for a while after it is collected.
	RSSSettled             int64   `json:"rss_settled"`
	RSSSettledAfterMs      float64 `json:"rss_settled_after_ms"`
	RSSSettledPerClientKiB float64 `json:"rss_settled_per_client_kib"`
	// Heap in use after a collection, before the clients and with them
	// (when the server serves TRUSTGATE_PPROF_ADDR).
	HeapBefore       int64   `json:"heap_before"`
	HeapConnected    int64   `json:"heap_connected"`
	HeapPerClientKiB float64 `json:"heap_per_client_kib"`
	// Restart is the server's restart (-restart), before the changes.
	Restart *restartRound `json:"restart,omitempty"`
	Changes []round       `json:"changes"`
}

// latencies summarises per-client times.
type latencies struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarise(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Sorted(slices.Values(ds))
	pct := func(p float64) float64 { return ms(s[min(len(s)-1, int(p*float64(len(s))))]) }
	return latencies{P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// round is one change.
type round struct {
	Change string   `json:"change"`
	Types  []string `json:"types"` // type URLs whose version changed
	// FromWrite is each client's time from the file replacement to its
	// ACK of the last changed type; it includes serve's --debounce.
	FromWrite latencies `json:"from_write"`
	// FromReload is the same from the start of the reload (/debug/reload's
	// "at"), so without the debounce and the file watcher.
	FromReload latencies `json:"from_reload"`
	ReloadMs   float64   `json:"reload_ms"` // /debug/reload's duration
	Bytes      int64     `json:"bytes"`     // received by all clients
	CPUMs      float64   `json:"server_cpu_ms"`
	Faults     int64     `json:"server_faults"` // minor page faults
	RSS        int64     `json:"rss_after"`
}

// measure connects the clients, makes the changes and stops the clients.
func measure(ctx context.Context, c config, w *workload, srv *serverProc) (*report, error) {
	rep := &report{Protocol: protocolName(c.delta), Hosts: c.hosts, Clients: c.clients, Parallel: c.parallel}
	before, err := srv.usage()
	if err != nil {
		return nil, err
	}
	if c.rssWait > 0 {
		// The first load's garbage is still resident: let it go too, or
		// the clients' share would be what the startup returns meanwhile.
		var start report
		if err := settleRSS(ctx, srv, c.rssWait, before.rss, &start); err != nil {
			return nil, err
		}
		before.rss = start.RSSSettled
	}
	rep.RSSBefore = before.rss
	if rep.HeapBefore, err = srv.heapInuse(ctx); err != nil {
		return nil, err
	}
	if c.allocsFile != "" {
		if err := srv.profile(ctx, "allocs", c.allocsFile+".base"); err != nil {
			return nil, err
		}
	}
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	clients, err := connect(cctx, c, srv, &wg, rep)
	if err != nil {
		return nil, err
	}
	// Let the last ACKs be handled and the heap settle before reading RSS.
	time.Sleep(500 * time.Millisecond)
	connected, err := srv.usage()
	if err != nil {
		return nil, err
	}
	rep.ConnectCPUMs = ms(connected.cpu - before.cpu)
	rep.ConnectFaults = connected.faults - before.faults
	rep.RSSConnected = connected.rss
	rep.RSSPerClientKiB = float64(connected.rss-before.rss) / float64(c.clients) / 1024
	if rep.HeapConnected, err = srv.heapInuse(ctx); err != nil {
		return nil, err
	}
	rep.HeapPerClientKiB = float64(rep.HeapConnected-rep.HeapBefore) / float64(c.clients) / 1024
	if c.allocsFile != "" {
		if err := srv.profile(ctx, "allocs", c.allocsFile); err != nil {
			return nil, err
		}
	}
	if c.rssWait > 0 {
		if err := settleRSS(ctx, srv, c.rssWait, connected.rss, rep); err != nil {
			return nil, err
		}
		rep.RSSSettledPerClientKiB = float64(rep.RSSSettled-before.rss) / float64(c.clients) / 1024
	}
	if c.heapFile != "" {
		if err := srv.heapProfile(ctx, c.heapFile); err != nil {
			return nil, err
		}
	}
	if c.restart {
		if rep.Restart, err = restartPhase(ctx, c, srv, clients, rep); err != nil {
			return nil, fmt.Errorf("restart: %w", err)
		}
	}
	seconds := int(math.Ceil(float64(c.changes) * (c.settleTime + 3*time.Second).Seconds()))
	stopProfiles, err := startProfiles(ctx, c, srv, "", seconds)
	if err != nil {
		return nil, err
	}
	for i := range c.changes {
		if i > 0 {
			time.Sleep(c.settleTime)
		}
		r, err := change(ctx, c, w, srv, clients)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("change %d: %w", i+1, err), stopProfiles())
		}
		rep.Changes = append(rep.Changes, r)
	}
	if err := stopProfiles(); err != nil {
		return nil, err
	}
	end, err := srv.usage()
	if err != nil {
		return nil, err
	}
	rep.RSSPeak = max(rep.RSSPeak, end.hwm)
	return rep, nil
}

func protocolName(delta bool) string {
	if delta {
		return "delta"
	}
	return "sotw"
}

// connect starts every client, c.parallel at a time, each waiting until it
// holds the current versions, and records the connect figures.
func connect(ctx context.Context, c config, srv *serverProc, wg *sync.WaitGroup, rep *report) ([]*client, error) {
	want, _, err := srv.versions(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range namedTypes {
		if want[t] == emptyVersion {
			delete(want, t) // nothing references it: no client asks for it
		}
	}
	rc := newRefsCache()
	addr := srv.xds // a restart keeps it
	clients := make([]*client, c.clients)
	times := make([]time.Duration, c.clients)
	errs := make([]error, c.clients)
	sem := make(chan struct{}, c.parallel)
	deadline := deadlineOf(ctx)
	start, self := time.Now(), cputime.SelfUsage()
	var waiting sync.WaitGroup
	for i := range clients {
		cl := newClient(fmt.Sprintf("xdsload-%05d", i), c.delta, c.restart, rc)
		clients[i] = cl
		sem <- struct{}{}
		t0 := time.Now()
		wg.Go(func() { cl.run(ctx, addr, groupLabels()) })
		waiting.Go(func() {
			defer func() { <-sem }()
			at, err := cl.wait(want, deadline)
			times[i], errs[i] = at.Sub(t0), err
		})
	}
	waiting.Wait()
	now := cputime.SelfUsage()
	rep.ConnectMs, rep.ConnectClientsCPUMs = ms(time.Since(start)), ms(now.CPU-self.CPU)
	rep.ConnectClientsFaults, rep.ClientsPeakRSS = now.MinorFaults-self.MinorFaults, now.PeakRSS
	if err := firstErrors(errs); err != nil {
		return nil, err
	}
	rep.Connect = summarise(times)
	rep.ConnectBytes = received(clients)
	return clients, nil
}

// received is what the clients received so far.
func received(clients []*client) int64 {
	var n int64
	for _, cl := range clients {
		n += cl.received()
	}
	return n
}

// change makes one change and waits until every client ACKed the new
// versions of the types that changed.
func change(ctx context.Context, c config, w *workload, srv *serverProc, clients []*client) (round, error) {
	r := round{Change: c.change}
	old, st0, err := srv.versions(ctx)
	if err != nil {
		return r, err
	}
	before, err := srv.usage()
	if err != nil {
		return r, err
	}
	bytes0 := received(clients)
	written := time.Now()
	if err := w.apply(c.change); err != nil {
		return r, err
	}
	want, st, err := awaitReload(ctx, srv, old, st0.Reloads)
	if err != nil {
		return r, err
	}
	r.Types = slices.Sorted(maps.Keys(want))
	d, err := time.ParseDuration(st.Duration)
	if err != nil {
		return r, fmt.Errorf("/debug/reload duration %q: %w", st.Duration, err)
	}
	r.ReloadMs = ms(d)
	deadline := deadlineOf(ctx)
	fromWrite := make([]time.Duration, len(clients))
	fromReload := make([]time.Duration, len(clients))
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Go(func() {
			at, err := cl.wait(want, deadline)
			fromWrite[i], fromReload[i], errs[i] = at.Sub(written), at.Sub(st.At), err
		})
	}
	wg.Wait()
	if err := firstErrors(errs); err != nil {
		return r, err
	}
	r.FromWrite, r.FromReload = summarise(fromWrite), summarise(fromReload)
	after, err := srv.usage()
	if err != nil {
		return r, err
	}
	r.CPUMs, r.RSS, r.Faults = ms(after.cpu-before.cpu), after.rss, after.faults-before.faults
	r.Bytes = received(clients) - bytes0
	return r, nil
}

// awaitReload polls /debug/reload until a reload after the one numbered
// reloads changed some versions, and returns the changed types' new
// versions.
func awaitReload(ctx context.Context, srv *serverProc, old map[string]string, reloads int) (map[string]string, reloadStatus, error) {
	for {
		cur, st, err := srv.versions(ctx)
		if err != nil {
			return nil, st, err
		}
		if st.Reloads > reloads {
			want := map[string]string{}
			for t, v := range cur {
				if old[t] != v {
					want[t] = v
				}
			}
			if len(want) > 0 {
				return want, st, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, st, fmt.Errorf("no reload changed the configuration: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Hour)
}

// emptyVersion is the version of a type without resources: trustgate's
// versions are SHA-256 over the resources (xds/server/snapshot.go).
var emptyVersion = hex.EncodeToString(sha256.New().Sum(nil))

// firstErrors joins the first three errors and counts the rest.
func firstErrors(errs []error) error {
	var out []error
	n := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		if n++; n <= 3 {
			out = append(out, err)
		}
	}
	if n > 3 {
		out = append(out, fmt.Errorf("and %d more clients failed", n-3))
	}
	return errors.Join(out...)
}

// startProfiles starts the CPU profiles of a phase (-cpu-profile), to
// c.cpuFile+phase+".clients" and ".server", and returns what stops them:
// the clients' when it is called, the server's when its seconds are over.
func startProfiles(ctx context.Context, c config, srv *serverProc, phase string, seconds int) (func() error, error) {
	stopClients, err := startClientsProfile(c, phase)
	if err != nil {
		return nil, err
	}
	waitServer := startServerProfile(ctx, c, srv, phase, seconds)
	return func() error { return errors.Join(stopClients(), waitServer()) }, nil
}

// startClientsProfile starts the CPU profile of this process (the
// clients') to c.cpuFile+phase+".clients", and returns what stops it.
func startClientsProfile(c config, phase string) (func() error, error) {
	if c.cpuFile == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(c.cpuFile + phase + ".clients")
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// startServerProfile starts the server's CPU profile for seconds, to
// c.cpuFile+phase+".server", and returns what waits for it.
func startServerProfile(ctx context.Context, c config, srv *serverProc, phase string, seconds int) func() error {
	if c.cpuFile == "" {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() {
		done <- srv.profile(ctx, fmt.Sprintf("profile?seconds=%d", seconds), c.cpuFile+phase+".server")
	}()
	return func() error { return <-done }
}

// settleRSS polls the server's RSS every half second until it has not
// fallen by more than 1% for 3 s, or wait has passed, and records it.
func settleRSS(ctx context.Context, srv *serverProc, wait time.Duration, rss int64, rep *report) error {
	start := time.Now()
	stable, since := rss, start
	for time.Since(start) < wait && time.Since(since) < 3*time.Second {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		u, err := srv.usage()
		if err != nil {
			return err
		}
		rss = u.rss
		if rss < stable-stable/100 {
			stable, since = rss, time.Now()
		}
	}
	rep.RSSSettled, rep.RSSSettledAfterMs = rss, ms(since.Sub(start))
	return nil
}
