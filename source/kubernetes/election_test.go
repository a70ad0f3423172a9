package kubernetes_test

import (
	"context"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kube "github.com/trustgate/trustgate/source/kubernetes"
)

const leaseName = "trustgate-status"

// fastElection are timings short enough for tests: a Lease of 2 s, renewed
// every 100 ms, given up after 1 s without a renewal.
func fastElection(ns, identity string) kube.StatusOptions {
	return kube.StatusOptions{Identity: identity, LeaseNamespace: ns, LeaseName: leaseName,
		LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond}
}

// leaders records who leads, and fails the test if two ever lead at once.
type leaders struct {
	t       *testing.T
	mu      sync.Mutex
	current string
	changed chan struct{} // closed and replaced on every change
	history []string
}

func newLeaders(t *testing.T) *leaders { return &leaders{t: t, changed: make(chan struct{})} }

// lead is an elector's work: it holds the lead until ctx ends.
func (l *leaders) lead(identity string) func(context.Context) {
	return func(ctx context.Context) {
		l.mu.Lock()
		if l.current != "" {
			l.t.Errorf("%s leads while %s still does", identity, l.current)
		}
		l.current = identity
		l.history = append(l.history, identity)
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
		<-ctx.Done()
		l.mu.Lock()
		if l.current == identity {
			l.current = ""
		}
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

// await waits until ok(current leader) or fails after d.
func (l *leaders) await(d time.Duration, what string, ok func(string) bool) string {
	l.t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		cur, ch := l.current, l.changed
		l.mu.Unlock()
		if ok(cur) {
			return cur
		}
		select {
		case <-ch:
		case <-deadline:
			l.t.Fatalf("after %s: %s (leader %q, history %v)", d, what, cur, l.history)
		}
	}
}

func runElection(t *testing.T, opts kube.StatusOptions, lead func(context.Context)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kube.RunElection(ctx, requireAPI(t).Config, opts, lead) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func lease(t *testing.T, ns string) *coordinationv1.Lease {
	t.Helper()
	l, err := api.Client.CoordinationV1().Leases(ns).Get(context.Background(), leaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestElectionOneLeaderAtATime: three replicas; each leader in turn stops,
// and another takes over at once (the Lease released), never two at once.
func TestElectionOneLeaderAtATime(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "election")
	l := newLeaders(t)
	stops := map[string]func(){}
	for _, id := range []string{"a", "b", "c"} {
		stops[id] = runElection(t, fastElection(ns, id), l.lead(id))
	}
	first := l.await(10*time.Second, "no replica leads", func(cur string) bool { return cur != "" })
	stops[first]()
	delete(stops, first)
	// Released: another replica takes it within a few tries, well before the
	// 2 s Lease would have expired.
	start := time.Now()
	second := l.await(10*time.Second, "no replica took over", func(cur string) bool { return cur != "" && cur != first })
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("%s took over %s after %s stopped, want well under the 2 s Lease (released)", second, took, first)
	}
	stops[second]()
	delete(stops, second)
	l.await(10*time.Second, "the last replica did not take over", func(cur string) bool { return cur != "" && cur != first && cur != second })
}

// TestElectionStepsDownWhenTheLeaseIsTaken: a leader whose Lease another
// holder took (a partition healed, an operator's edit) stops leading
// within its RenewDeadline, and leaves the other's Lease alone when it
// stops.
func TestElectionStepsDownWhenTheLeaseIsTaken(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "election-taken")
	l := newLeaders(t)
	stop := runElection(t, fastElection(ns, "a"), l.lead("a"))
	l.await(10*time.Second, "a does not lead", func(cur string) bool { return cur == "a" })

	// The leader renews every 100 ms: retry on its conflicts.
	var err error
	for range 50 {
		taken := lease(t, ns)
		now := metav1.NewMicroTime(time.Now())
		taken.Spec.HolderIdentity = new("intruder")
		taken.Spec.LeaseDurationSeconds = new(int32(60))
		taken.Spec.AcquireTime, taken.Spec.RenewTime = &now, &now
		if _, err = api.Client.CoordinationV1().Leases(ns).Update(context.Background(), taken, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l.await(5*time.Second, "a still leads on a Lease it lost", func(cur string) bool { return cur == "" })
	// The RenewDeadline of 1 s, and a retry period and a request late.
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a stopped leading %s after losing its Lease, want within its 1 s RenewDeadline", took)
	}
	stop()
	if h := deref(lease(t, ns).Spec.HolderIdentity); h != "intruder" {
		t.Errorf("after a stopped, the Lease's holder is %q, want intruder's left alone", h)
	}
}

// TestElectionWaitsOutAnotherHoldersLease: a Lease whose holder renewed it
// "an hour ago" by its own clock counts as held until it has stood unchanged
// for its duration on the candidate's clock: clocks need not agree.
func TestElectionWaitsOutAnotherHoldersLease(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "election-wait")
	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	_, err := api.Client.CoordinationV1().Leases(ns).Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: leaseName},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: new("ghost"), LeaseDurationSeconds: new(int32(2)),
			AcquireTime: &old, RenewTime: &old, LeaseTransitions: new(int32(4))},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := newLeaders(t)
	start := time.Now()
	runElection(t, fastElection(ns, "a"), l.lead("a"))
	l.await(10*time.Second, "a never took the ghost's Lease", func(cur string) bool { return cur == "a" })
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("a took the ghost's Lease after %s, before its 2 s had passed on a's clock", took)
	}
	got := lease(t, ns).Spec
	if got.LeaseTransitions == nil || *got.LeaseTransitions != 5 {
		t.Errorf("lease transitions %v, want 5 (the ghost's 4 and a's)", got.LeaseTransitions)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
