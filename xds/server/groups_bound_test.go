package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

var plaintext = grpc.WithTransportCredentials(insecure.NewCredentials())

// visitor is a proxy that connects over a shared connection, gets its first
// response and leaves.
type visitor struct {
	conn *grpc.ClientConn
}

func newVisitor(t *testing.T, addr string) *visitor {
	t.Helper()
	v, err := dialVisitor(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := v.conn.Close(); err != nil {
			t.Error(err)
		}
	})
	return v
}

func dialVisitor(addr string) (*visitor, error) {
	c, err := grpc.NewClient(addr, plaintext)
	if err != nil {
		return nil, err
	}
	return &visitor{conn: c}, nil
}

// visit opens a stream as a proxy with these labels, receives the answer to
// its CDS request and closes the stream.
func (v *visitor) visit(id string, l map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := openOn(ctx, v.conn, false)
	if err != nil {
		return err
	}
	if err := st.send(node(id, l), envoytest.ClusterType); err != nil {
		return err
	}
	if _, _, err := st.recv(); err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	return nil
}

// visitAll runs n visits of distinct label sets (labels(i)), parallel at a time.
func visitAll(t *testing.T, addr string, n, parallel int, labels func(i int) map[string]string) {
	t.Helper()
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range parallel {
		v := newVisitor(t, addr) // 16 streams at most per connection: one each
		wg.Go(func() {
			for i := range work {
				errs <- v.visit(fmt.Sprintf("visitor-%d", i), labels(i))
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// groupsGauge waits until trustgate_xds_proxy_groups is want.
func (h *harness) waitGroups(want int) {
	h.t.Helper()
	sample := "trustgate_xds_proxy_groups"
	eventually(h.t, fmt.Sprintf("%d proxy groups", want), func() error {
		if got := h.counter(sample); got != float64(want) {
			return fmt.Errorf("%s = %v", sample, got)
		}
		if got := len(h.reloadStatus().Groups); got != want {
			return fmt.Errorf("/debug/reload shows %d groups", got)
		}
		return nil
	})
}

// waitProxies waits until n streams are open.
func (h *harness) waitProxies(n int) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("%d proxies connected", n), func() error {
		if got := len(h.proxies()); got != n {
			return fmt.Errorf("%d connected", got)
		}
		return nil
	})
}

// TestIdleGroupsAreFreed lets 300 label sets come and go: once their
// proxies left and the grace period passed, their groups are gone, and a
// reload compiles only the groups that still have a proxy.
func TestIdleGroupsAreFreed(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	opts := h.options()
	opts.GroupGrace = 100 * time.Millisecond
	h.start(opts)
	stay := h.ready(t, envoytest.Options{NodeID: "stay", Labels: gateway})
	const n = 300
	visitAll(t, h.addr, n, 8, func(i int) map[string]string { return map[string]string{"app": "gateway", "n": fmt.Sprint(i)} })
	h.waitGroups(1)
	if got := h.counter("trustgate_xds_proxy_groups_freed_total"); got != n {
		t.Errorf("freed %v groups, want %d", got, n)
	}

	// A reload compiles the one group left, not the 300 gone.
	before := h.compiles.get("app=gateway,n=7")
	h.mustReload()
	if got := h.compiles.get("app=gateway,n=7"); got != before {
		t.Errorf("a group freed was compiled again by the reload (%d, then %d)", before, got)
	}
	if got := h.compiles.get("app=gateway"); got != 2 {
		t.Errorf("the group with a proxy was compiled %d times, want 2 (first request, reload)", got)
	}
	// The proxy that stayed is still served.
	h.set(func(h *harness) { h.spec.Prefixes = []string{"/", "/after"} })
	h.mustReload()
	if _, err := stay.Wait(timeout, "the route /after", func(v envoytest.View) bool {
		return len(v.Routes[fixture.RouteName].GetVirtualHosts()[0].GetRoutes()) == 2
	}); err != nil {
		t.Fatal(err)
	}
}

// TestReloadFreesIdleGroups: a reload does not wait for the grace period;
// it compiles the groups with a proxy and frees the others, whose
// configuration would be stale.
func TestReloadFreesIdleGroups(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	opts := h.options()
	opts.GroupGrace = time.Hour
	h.start(opts)
	visitAll(t, h.addr, 50, 4, func(i int) map[string]string { return map[string]string{"n": fmt.Sprint(i)} })
	h.waitGroups(50) // within the grace period: kept
	h.waitProxies(0)
	h.mustReload()
	h.waitGroups(0)
	for i := range 50 {
		if got := h.compiles.get(fmt.Sprintf("n=%d", i)); got != 1 {
			t.Fatalf("group n=%d compiled %d times, want once (its first request)", i, got)
		}
	}
	// A proxy that comes back gets its group compiled again.
	h.ready(t, envoytest.Options{NodeID: "back", Labels: map[string]string{"n": "3"}})
	if got := h.compiles.get("n=3"); got != 2 {
		t.Errorf("group n=3 compiled %d times, want 2", got)
	}
}

// TestGroupCap refuses a proxy whose labels would make a group beyond
// MaxGroups, with ResourceExhausted (Envoy retries it with back-off), a log
// line and a metric; proxies of existing groups are still admitted, and the
// refused one is once a group is freed.
func TestGroupCap(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			opts := h.options()
			opts.MaxGroups = 3
			opts.GroupGrace = time.Hour
			h.start(opts)
			var held []*envoytest.Client
			for i := range 3 {
				e := h.ready(t, envoytest.Options{NodeID: fmt.Sprint("held-", i), Labels: map[string]string{"n": fmt.Sprint(i)}, Delta: delta})
				held = append(held, e)
			}
			s := openADS(t, h.addr, delta, plaintext)
			if err := s.send(node("fourth", map[string]string{"n": "3"}), envoytest.ClusterType); err != nil {
				t.Fatal(err)
			}
			st := s.ended()
			if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "3 proxy groups") {
				t.Fatalf("fourth group: %v, want ResourceExhausted naming the limit of 3", st)
			}
			if got := h.counter(`trustgate_xds_denied_streams_total{reason="too_many_groups"}`); got != 1 {
				t.Errorf("too_many_groups refusals = %v, want 1", got)
			}
			// A proxy of an existing group is admitted.
			h.ready(t, envoytest.Options{NodeID: "same", Labels: map[string]string{"n": "0"}, Delta: delta})
			h.waitGroups(3)
			// Once group n=2 has no proxy and a reload freed it, n=3 fits.
			if err := held[2].Close(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "held-2 gone", func() error {
				for _, p := range h.proxies() {
					if p.NodeID == "held-2" {
						return errors.New("still connected")
					}
				}
				return nil
			}) // and so out of its group (see callbacks.closed)
			h.mustReload()
			h.ready(t, envoytest.Options{NodeID: "fourth", Labels: map[string]string{"n": "3"}, Delta: delta})
		})
	}
}

// TestLabelsTooLarge refuses labels whose key is over the limit: the cap on
// groups bounds their number, this their size.
func TestLabelsTooLarge(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	h.start(h.options())
	s := openADS(t, h.addr, false, plaintext)
	if err := s.send(node("big", map[string]string{"app": strings.Repeat("x", 40<<10)}), envoytest.ClusterType); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if st := s.ended(); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "labels") {
		t.Fatalf("40 KiB of labels: %v, want InvalidArgument about the labels", st)
	}
	if got := h.counter(`trustgate_xds_denied_streams_total{reason="labels_too_large"}`); got != 1 {
		t.Errorf("labels_too_large refusals = %v, want 1", got)
	}
	h.waitGroups(0)
}
