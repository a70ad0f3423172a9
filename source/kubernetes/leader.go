package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// StatusOptions configure the status writer's election.
type StatusOptions struct {
	// Identity names this replica in the Lease (the pod name).
	Identity string
	// LeaseNamespace and LeaseName name the coordination.k8s.io Lease.
	LeaseNamespace, LeaseName string
	// LeaseDuration, RenewDeadline and RetryPeriod are the election's
	// timings, client-go's leader election's (elect.go); zero takes 15 s,
	// 10 s and 2 s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

func (o StatusOptions) withDefaults() (StatusOptions, error) {
	if o.Identity == "" || o.LeaseNamespace == "" || o.LeaseName == "" {
		return o, errors.New("status writer: Identity, LeaseNamespace and LeaseName are required")
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = 15 * time.Second
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = 10 * time.Second
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = 2 * time.Second
	}
	// client-go's NewLeaderElector's checks, on the duration the other
	// replicas read: the Lease holds whole seconds, so a leader must give up
	// (RenewDeadline) before the truncated duration has passed, or two
	// replicas would write at once.
	switch {
	case o.RetryPeriod < 0 || o.RenewDeadline < 0:
		return o, errors.New("status writer: RenewDeadline and RetryPeriod must be positive")
	case o.LeaseDuration.Truncate(time.Second) <= o.RenewDeadline:
		return o, fmt.Errorf("status writer: the Lease's duration (%s, in whole seconds) must be longer than RenewDeadline (%s)",
			o.LeaseDuration.Truncate(time.Second), o.RenewDeadline)
	case o.RenewDeadline <= time.Duration(1.2*float64(o.RetryPeriod)):
		return o, fmt.Errorf("status writer: RenewDeadline (%s) must be longer than 1.2 times RetryPeriod (%s)", o.RenewDeadline, o.RetryPeriod)
	}
	return o, nil
}

// RunStatus takes part in the election of the status writer until ctx
// ends. While this replica holds the Lease it writes every object's status
// after every load (only when it differs) and an Event per new error; when
// ctx ends it releases the Lease, so another replica takes over at once. A
// replica that dies without releasing is replaced once the Lease expires.
func (s *Source) RunStatus(ctx context.Context, opts StatusOptions) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	loads := s.subscribe()
	elect(ctx, s.coord, opts, func(ctx context.Context) {
		s.log.Info("writing status: this replica holds the lease", "lease", opts.LeaseNamespace+"/"+opts.LeaseName, "identity", opts.Identity)
		s.lead(ctx, loads)
		s.log.Info("not writing status: lease released or lost", "identity", opts.Identity)
	})
	return nil
}

// lead writes statuses now and after every load, until ctx ends.
func (s *Source) lead(ctx context.Context, loads <-chan struct{}) {
	reported := map[string]string{}
	for {
		s.writeStatuses(ctx, s.CurrentOutcome(), reported)
		select {
		case <-ctx.Done():
			return
		case <-loads:
		}
	}
}

// event records a Warning Event on the object.
func (s *Source) event(ctx context.Context, u *unstructured.Unstructured, reason, msg string) {
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: u.GetName() + ".", Namespace: u.GetNamespace()},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
			UID: u.GetUID(), ResourceVersion: u.GetResourceVersion(),
		},
		Reason: reason, Message: truncate(msg), Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "trustgate"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	err := s.core.Post().Namespace(u.GetNamespace()).Resource("events").
		VersionedParams(&metav1.CreateOptions{}, typed().params).Body(ev).Do(ctx).Error()
	if err != nil {
		s.log.Warn("recording event", "object", fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName()), "error", err)
	}
}
