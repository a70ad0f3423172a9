package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// BenchmarkGroupChurn has 2,000 label sets come and go (issue 10): one local
// client connects as a proxy of each, takes its first response and leaves,
// 16 at a time, while one proxy of the Gateway's own group stays. The
// configuration is the one-host HTTPS gateway of labels_alias_test.go,
// loaded by compile.Load as `trustgate serve` does, and every visitor's
// labels match its selector, so each visit compiles a full group (listener,
// cluster, route and the private key's secret). Reported: the reload time
// and heap before the churn and after the groups were freed, the heap while
// they were held (within the grace period), how long they outlived it, and
// the time a visitor waited for its first response (p50, p99).
func BenchmarkGroupChurn(b *testing.B) {
	const (
		n        = 2000
		parallel = 16
		grace    = 10 * time.Second // longer than the churn: every group is held at once
	)
	for range b.N {
		opts := server.Options{
			Loader: pipelineLoader(b, edgeGateway), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			GroupGrace: grace, MaxGroups: n + 10,
		}
		srv, addr := serve(b, opts, nil)
		stay, err := envoytest.Dial(context.Background(), addr, envoytest.Options{NodeID: "stay", Labels: map[string]string{"app": "edge", "x": "y"}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := stay.WaitComplete(timeout); err != nil {
			b.Fatal(err)
		}
		reloadBefore := medianReload(b, srv, 9)
		heapBefore := heapAfterGC().inuse

		waits := churn(b, addr, n, parallel)
		left := time.Now()
		heapHeld := heapAfterGC().inuse
		groupsHeld := groupCount(b, srv)
		for groupCount(b, srv) > 1 {
			if time.Since(left) > grace+timeout {
				b.Fatalf("%d groups still held %v after the visitors left", groupCount(b, srv), time.Since(left))
			}
			time.Sleep(10 * time.Millisecond)
		}
		freedAfter := time.Since(left)
		reloadAfter := medianReload(b, srv, 9)
		heapAfter := heapAfterGC().inuse
		// A second churn leaves the heap where the first did: what stays is
		// the capacity of maps that grew to the peak (Go maps do not
		// shrink), not something per group.
		churn(b, addr, n, parallel)
		for groupCount(b, srv) > 1 {
			time.Sleep(10 * time.Millisecond)
		}
		heapAgain := heapAfterGC().inuse
		if err := stay.Close(); err != nil {
			b.Fatal(err)
		}

		slices.Sort(waits)
		b.ReportMetric(float64(groupsHeld), "groups-held")
		b.ReportMetric(ms(reloadBefore), "reload-before-ms")
		b.ReportMetric(ms(reloadAfter), "reload-after-ms")
		b.ReportMetric(float64(heapBefore)/(1<<20), "heap-before-MiB")
		b.ReportMetric(float64(heapHeld)/(1<<20), "heap-held-MiB")
		b.ReportMetric(float64(heapAfter)/(1<<20), "heap-after-MiB")
		b.ReportMetric(float64(heapAgain)/(1<<20), "heap-after-second-churn-MiB")
		b.ReportMetric(ms(freedAfter), "freed-after-ms")
		b.ReportMetric(ms(waits[len(waits)/2]), "first-response-p50-ms")
		b.ReportMetric(ms(waits[len(waits)*99/100]), "first-response-p99-ms")
	}
}

// groupCount reads the number of groups from /debug/reload.
func groupCount(b *testing.B, srv *server.Server) int {
	b.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/debug/reload", nil)
	req.Host = "localhost"
	srv.AdminHandler().ServeHTTP(rec, req)
	var st server.ReloadStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		b.Fatal(err)
	}
	return len(st.Groups)
}

// medianReload reloads k times and returns the median duration.
func medianReload(b *testing.B, srv *server.Server, k int) time.Duration {
	b.Helper()
	ds := make([]time.Duration, k)
	for i := range ds {
		start := time.Now()
		if err := srv.Reload(context.Background()); err != nil {
			b.Fatal(err)
		}
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[k/2]
}

// churn has n visitors of distinct label sets come and go, parallel at a
// time, and returns each one's wait for its first response.
func churn(b *testing.B, addr string, n, parallel int) []time.Duration {
	b.Helper()
	waits := make([]time.Duration, n)
	errs := make([]error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		v, err := dialVisitor(addr)
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			defer func() { _ = v.conn.Close() }() // the server sees the same either way
			for i := range work {
				start := time.Now()
				errs[i] = v.visit(fmt.Sprintf("visitor-%d", i), map[string]string{"app": "edge", "x": "y", "n": fmt.Sprint(i)})
				waits[i] = time.Since(start)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return waits
}
