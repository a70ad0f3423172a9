// Command xdsload measures trustgate serve under load, on loopback only: it
// writes the scale workload of docs/performance.md (internal/scalecfg),
// starts `trustgate serve` on it as a child process listening on 127.0.0.1,
// connects M light Envoy-like ADS clients (SotW or delta), then changes the
// configuration by replacing files atomically and reports, per change, the
// time until every client has ACKed the new versions (percentiles over the
// clients), the bytes sent, and the server's CPU time and resident memory.
//
//	go build -o bin/trustgate ./cmd/trustgate
//	go run ./cmd/xdsload -trustgate bin/trustgate -hosts 1000 -clients 1000 -changes 3
//
// The clients measure the server, not themselves: they share its cores, so
// each keeps names and versions only. A client reads a response with
// protowire (wire.go), not into an Any per resource, and of listeners and
// clusters keeps what each references, decoded once per content for all
// clients (refs.go); it works out the names to ask for again only when
// listeners or clusters change. (Until 2026-12-01 each client unmarshalled
// every response and went through the bytes of every listener and cluster
// it held at every response, a route change included: at 1,000 hosts and
// 1,000 clients that was gigabytes of copying per change, and the slowest
// client's ACK measured the clients' garbage collection, up to 8 s, more than
// the server.)
//
// Each client advertises Envoy's default HTTP/2 flow-control windows
// (256 MiB, client.go), as an Envoy would; gRPC's 64 KiB made the server
// wait for window updates within every full configuration.
//
// After the connect phase the server's RSS is also read once it has
// settled (-rss-wait: polled until it has not fallen by 1% for 3 s), and
// the time that took is reported: the Go runtime returns a burst's freed
// memory to the system in the background, so RSS right after the burst
// holds its garbage. The RSS before the clients is read the same way.
//
// The clients' heap is backed by transparent huge pages where the kernel
// leaves them to the program (internal/hugeheap; -huge-pages=false turns
// that off): in a reconnect storm every response is in flight at once,
// gigabytes in this one process, and where a first touch of a page is dear
// (13.5 µs on one of our machines) the clients' faults took more of the
// shared cores than the server (docs/performance.md, "Huge pages for
// translate's heap").
//
// -restart restarts the control plane after the connect phase, as a rollout
// of a one-replica deployment would: the server is stopped (SIGTERM) and a
// new one started on the same ADS address. Every client's stream ends, and
// each opens a new one as Envoy would: after Envoy's jittered back-off (the
// first try within 500 ms, restart.go), presenting what it holds: in SotW
// each type's last accepted version and names, in delta each resource's
// version (initial_resource_versions). The report gives the time to the new
// server's readiness, each client's time from then to its new stream, the
// new server's count of open streams, and the bytes, CPU and memory of the
// phase: a server that honours what the clients present sends little (in
// SotW the secrets again: the new replica never saw them ACKed). The
// changes then run against the new server, so every change also proves the
// resumed clients are served.
//
// -cpu-profile writes CPU profiles of the changes phase, the server's
// (/debug/pprof/profile) and the clients', and with -restart of the
// restart phase's first restartProfileSeconds from the new server ready.
//
// Runs are bounded: at most 20,000 clients and 100 changes, and -timeout for
// the whole run (5 minutes by default).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/trustgate/trustgate/internal/hugeheap"
	"github.com/trustgate/trustgate/internal/scalecfg"
)

// clientsHugeHeap is the clients' heap to back with huge pages: a storm of
// 1,000 clients on 1,000 hosts peaks at 5-6 GiB (hugeheap.Reserve takes at
// most a quarter of the machine's memory).
const clientsHugeHeap = 8 << 30

// Bounds of a run.
const (
	maxClients = 20000
	maxChanges = 100
)

type config struct {
	trustgate  string
	hosts      int
	routes     int
	policies   bool // each host's policies and backends too (scalecfg.Options.Policies)
	clients    int
	delta      bool
	changes    int
	change     string // route or cert
	parallel   int    // clients connecting at once
	timeout    time.Duration
	settleTime time.Duration
	dir        string
	jsonOut    bool
	heapFile   string // where to write the server's heap profile with the clients connected
	cpuFile    string // where to write the CPU profiles of the changes (server: cpuFile.server, clients: cpuFile.clients)
	allocsFile string // where to write the server's allocations profile after the connect phase (and before it: allocsFile.base)
	rssWait    time.Duration
	hugePages  bool // back this process's heap with huge pages (internal/hugeheap)
	restart    bool // restart the server after the connect phase (restart.go)
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("xdsload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.trustgate, "trustgate", "bin/trustgate", "the trustgate binary to run as the server")
	fs.IntVar(&c.hosts, "hosts", 100, "mTLS hosts in the configuration")
	fs.IntVar(&c.routes, "routes", 1, "routes per host: 1 or 2")
	fs.BoolVar(&c.policies, "policies", false, "give every host its DestinationRule, ServiceEntry, ClientCertificatePolicy and AuthorizationPolicy (gencfg -policies)")
	fs.IntVar(&c.clients, "clients", 100, "ADS clients (at most 20000)")
	fs.BoolVar(&c.delta, "delta", false, "speak incremental (delta) ADS instead of state-of-the-world")
	fs.IntVar(&c.changes, "changes", 3, "changes to make, one after the other (at most 100)")
	fs.StringVar(&c.change, "change", "route", "what each change is: route (one route of one host) or cert (the wildcard certificate, SDS only)")
	fs.IntVar(&c.parallel, "parallel", 64, "clients connecting at once (the clients count for a reconnect storm)")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "bound on the whole run")
	fs.DurationVar(&c.settleTime, "pause", time.Second, "pause between changes")
	fs.StringVar(&c.dir, "dir", "", "work directory (default: a temporary one, removed at the end)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	fs.StringVar(&c.heapFile, "heap-profile", "", "write the server's heap profile (pprof, after a GC) with the clients connected to this `file`")
	fs.StringVar(&c.cpuFile, "cpu-profile", "", "write CPU profiles of the changes phase: the server's to `file`.server (/debug/pprof/profile, "+
		"for -changes × (-pause + 3s)), the clients' (this process) to file.clients; with -restart, the restart phase's to file.restart.server and file.restart.clients")
	fs.StringVar(&c.allocsFile, "allocs-profile", "", "write the server's allocations profile after the connect phase to `file`, and before it to file.base "+
		"(go tool pprof -sample_index=alloc_space -base file.base)")
	fs.DurationVar(&c.rssWait, "rss-wait", 20*time.Second, "after the connect phase, wait up to this long for the server's RSS to stop falling (0: do not wait)")
	fs.BoolVar(&c.hugePages, "huge-pages", true, "back the clients' heap with transparent huge pages where the kernel's mode is madvise (internal/hugeheap)")
	fs.BoolVar(&c.restart, "restart", false, "after the connect phase, restart the server on the same ADS address: the clients reconnect as Envoy does, "+
		"presenting what they hold, and the report has the restart phase")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "xdsload: unexpected arguments %q\n", fs.Args())
		return 2
	case c.clients < 1 || c.clients > maxClients:
		fmt.Fprintf(stderr, "xdsload: -clients must be between 1 and %d\n", maxClients)
		return 2
	case c.changes < 0 || c.changes > maxChanges:
		fmt.Fprintf(stderr, "xdsload: -changes must be between 0 and %d\n", maxChanges)
		return 2
	case c.change != "route" && c.change != "cert":
		fmt.Fprintln(stderr, "xdsload: -change must be route or cert")
		return 2
	case c.parallel < 1:
		fmt.Fprintln(stderr, "xdsload: -parallel must be at least 1")
		return 2
	}
	huge := false
	if c.hugePages {
		var err error
		if huge, err = hugeheap.Reserve(clientsHugeHeap); err != nil {
			// The run goes on in small pages, as the report says.
			fmt.Fprintln(stderr, "xdsload: warning:", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rep, err := load(ctx, c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "xdsload:", err)
		return 1
	}
	rep.ClientsHugePages = huge
	if c.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.text(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "xdsload:", err)
		return 1
	}
	return 0
}

// load prepares the workload, runs the server and the clients, and
// measures.
func load(ctx context.Context, c config, log io.Writer) (*report, error) {
	dir := c.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "xdsload-")
		if err != nil {
			return nil, err
		}
		defer func() { _ = os.RemoveAll(tmp) }() // a temporary directory: nothing to do if it stays
		dir = tmp
	}
	w, err := newWorkload(dir, scalecfg.Options{Hosts: c.hosts, Routes: c.routes, Policies: c.policies})
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, serverSpec{bin: c.trustgate, config: w.config, secrets: w.secrets, groupKey: w.groupKey(), log: log, clients: c.clients})
	if err != nil {
		return nil, err
	}
	rep, err := measure(ctx, c, w, srv)
	return rep, errors.Join(err, srv.stop())
}
