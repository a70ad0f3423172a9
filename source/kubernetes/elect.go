package kubernetes

import (
	"context"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// election is client-go's leader election (k8s.io/client-go/tools/
// leaderelection, leaderelection.go: Run, acquire, renew,
// tryAcquireOrRenew, tryRelease) on a coordination.k8s.io Lease read and
// written through the coordination group's REST client: the package itself
// links every generated client into the binary (clients.go). Its rules,
// kept here:
//
//   - A Lease held by another replica counts as held until LeaseDuration has
//     passed on this replica's clock since this replica last saw the Lease
//     change: never by the holder's RenewTime, so clocks need not agree.
//   - Every write is an update of the Lease as last read or written (its
//     resourceVersion), so of two replicas writing at once one fails.
//   - The leader renews every RetryPeriod and stops leading when it has not
//     renewed within RenewDeadline (shorter than LeaseDuration), before any
//     other replica can take the Lease.
//
// Two differences, both stricter: when leadership ends, the work it ran has
// returned before the Lease is released; and a release writes only a Lease
// this replica still holds as the API server has it (client-go's checks
// the last record it saw, which an outage can leave stale).
type election struct {
	client *rest.RESTClient
	opts   StatusOptions

	lease        *coordinationv1.Lease // as last read or written
	observedTime time.Time             // this replica's clock when the Lease's spec last changed
}

// elect takes part in the election until ctx ends, running lead whenever
// this replica holds the Lease (RunStatus, and the tests' RunElection);
// opts are withDefaults' checked ones.
func elect(ctx context.Context, client *rest.RESTClient, opts StatusOptions, lead func(context.Context)) {
	for ctx.Err() == nil {
		(&election{client: client, opts: opts}).run(ctx, lead) // returns when ctx ends or the Lease is lost
	}
}

// run waits until this replica holds the Lease, then runs lead with a
// context that ends when the Lease is lost or ctx ends, renewing the Lease
// meanwhile; once lead has returned it releases the Lease. It returns when
// ctx ends or the Lease was lost.
func (e *election) run(ctx context.Context, lead func(context.Context)) {
	if !e.acquire(ctx) {
		return
	}
	leadCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(leadCtx)
	}()
	e.renew(leadCtx)
	stop()
	<-done
	e.release()
}

// acquire tries every RetryPeriod, jittered as client-go's (up to 1.2
// times more), until it holds the Lease (true) or ctx ends (false).
func (e *election) acquire(ctx context.Context) bool {
	for {
		if e.tryAcquireOrRenew(ctx) {
			return true
		}
		wait := e.opts.RetryPeriod + time.Duration(rand.Float64()*1.2*float64(e.opts.RetryPeriod)) //nolint:gosec // G404: spreads the replicas' tries, guards nothing
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// renew renews the Lease every RetryPeriod; a renewal that has not
// succeeded within RenewDeadline (retrying every RetryPeriod) ends it, as
// does ctx.
func (e *election) renew(ctx context.Context) {
	for {
		if !e.renewOnce(ctx) || !sleep(ctx, e.opts.RetryPeriod) {
			return
		}
	}
}

func (e *election) renewOnce(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, e.opts.RenewDeadline)
	defer cancel()
	for {
		if ctx.Err() != nil {
			return false
		}
		if e.tryAcquireOrRenew(ctx) {
			return true
		}
		if !sleep(ctx, e.opts.RetryPeriod) {
			return false
		}
	}
}

// sleep waits d or until ctx ends; it returns false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// spec is the Lease's spec as last read or written (none before).
func (e *election) spec() coordinationv1.LeaseSpec {
	if e.lease == nil {
		return coordinationv1.LeaseSpec{}
	}
	return e.lease.Spec
}

func (e *election) leader() bool {
	h := e.spec().HolderIdentity
	return h != nil && *h == e.opts.Identity
}

// valid: the observed Lease has not expired on this replica's clock.
func (e *election) valid(now time.Time) bool {
	var seconds int32
	if d := e.spec().LeaseDurationSeconds; d != nil {
		seconds = *d
	}
	return e.observedTime.Add(time.Duration(seconds) * time.Second).After(now)
}

func (e *election) observe(l *coordinationv1.Lease) {
	e.lease, e.observedTime = l, time.Now()
}

// tryAcquireOrRenew takes or renews the Lease; true if this replica holds
// it now (client-go's tryAcquireOrRenew, step by step).
func (e *election) tryAcquireOrRenew(ctx context.Context) bool {
	now := metav1.NewMicroTime(time.Now())
	want := coordinationv1.LeaseSpec{
		HolderIdentity:       &e.opts.Identity,
		LeaseDurationSeconds: new(int32(e.opts.LeaseDuration / time.Second)),
		AcquireTime:          &now,
		RenewTime:            &now,
	}
	// 1. The leader updates the Lease it last wrote, without reading it.
	if e.leader() && e.valid(now.Time) {
		want.AcquireTime, want.LeaseTransitions = e.lease.Spec.AcquireTime, e.lease.Spec.LeaseTransitions
		if l, err := e.update(ctx, e.lease, want); err == nil {
			e.observe(l)
			return true
		}
	}
	// 2. Read the Lease, or create it.
	l, err := e.get(ctx)
	if apierrors.IsNotFound(err) {
		if l, err = e.create(ctx, want); err != nil {
			return false
		}
		e.observe(l)
		return true
	}
	if err != nil {
		return false
	}
	// 3. Another holder's Lease stands until it expires on our clock.
	if !sameSpec(l.Spec, e.spec()) {
		e.observe(l)
	}
	e.lease = l
	if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" && e.valid(now.Time) && !e.leader() {
		return false
	}
	// 4. Take it (one more transition) or renew it.
	if e.leader() {
		want.AcquireTime, want.LeaseTransitions = l.Spec.AcquireTime, l.Spec.LeaseTransitions
	} else {
		var n int32
		if l.Spec.LeaseTransitions != nil {
			n = *l.Spec.LeaseTransitions
		}
		want.LeaseTransitions = new(n + 1)
	}
	if l, err = e.update(ctx, l, want); err != nil {
		return false
	}
	e.observe(l)
	return true
}

// release gives the Lease up, if this replica holds it, so that another
// takes it at its next try instead of after LeaseDuration: a Lease of one
// second held by no one (client-go's tryRelease). It retries on a conflict
// (a renewal in flight when ctx ended) within RenewDeadline.
func (e *election) release() {
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.RenewDeadline)
	defer cancel()
	for ctx.Err() == nil {
		l, err := e.get(ctx)
		if err != nil || l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != e.opts.Identity {
			return // gone, unreadable, or not ours to release
		}
		now := metav1.NewMicroTime(time.Now())
		_, err = e.update(ctx, l, coordinationv1.LeaseSpec{
			HolderIdentity: new(""), LeaseDurationSeconds: new(int32(1)),
			AcquireTime: &now, RenewTime: &now, LeaseTransitions: l.Spec.LeaseTransitions,
		})
		if !apierrors.IsConflict(err) {
			return
		}
	}
}

func (e *election) get(ctx context.Context) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	err := e.client.Get().Namespace(e.opts.LeaseNamespace).Resource("leases").Name(e.opts.LeaseName).
		VersionedParams(&metav1.GetOptions{}, typed().params).Do(ctx).Into(l)
	return l, err
}

func (e *election) create(ctx context.Context, spec coordinationv1.LeaseSpec) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.opts.LeaseNamespace, Name: e.opts.LeaseName},
		Spec:       spec,
	}
	out := &coordinationv1.Lease{}
	err := e.client.Post().Namespace(e.opts.LeaseNamespace).Resource("leases").
		VersionedParams(&metav1.CreateOptions{}, typed().params).Body(l).Do(ctx).Into(out)
	return out, err
}

// update writes spec over the Lease as read or written last: the API
// server refuses it (Conflict) if the Lease changed since.
func (e *election) update(ctx context.Context, from *coordinationv1.Lease, spec coordinationv1.LeaseSpec) (*coordinationv1.Lease, error) {
	l := from.DeepCopy()
	l.Spec = spec
	out := &coordinationv1.Lease{}
	err := e.client.Put().Namespace(e.opts.LeaseNamespace).Resource("leases").Name(e.opts.LeaseName).
		VersionedParams(&metav1.UpdateOptions{}, typed().params).Body(l).Do(ctx).Into(out)
	return out, err
}

// sameSpec compares what client-go's raw record holds: holder, duration,
// times and transitions.
func sameSpec(a, b coordinationv1.LeaseSpec) bool {
	return equality.Semantic.DeepEqual(a, b)
}
