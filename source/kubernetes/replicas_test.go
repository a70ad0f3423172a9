package kubernetes_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// TestTwoReplicasServeEqualVersions: two replicas reading the same objects
// serve the same versions, type by type and resource by resource, and an
// Envoy that fails over from one to the other gets nothing re-sent over
// delta (and only the Secrets over SotW, which the new replica cannot know
// it holds).
func TestTwoReplicasServeEqualVersions(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "replicas")
	a, _ := started(t, ns, kubeOptions(ns))
	b := serve(t, kubeOptions(ns))
	for name, delta := range map[string]bool{"sotw": false, "delta": true} {
		t.Run(name, func(t *testing.T) {
			ca := dialOpts(t, a.addr, envoytest.Options{NodeID: "edge-a", Labels: map[string]string{"app": "edge"}, Delta: delta})
			cb := dialOpts(t, b.addr, envoytest.Options{NodeID: "edge-b", Labels: map[string]string{"app": "edge"}, Delta: delta})
			va, err := ca.WaitComplete(waitFor)
			if err != nil {
				t.Fatal(err)
			}
			vb, err := cb.WaitComplete(waitFor)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(va.Versions, vb.Versions); diff != "" {
				t.Errorf("versions differ between replicas (-a +b):\n%s", diff)
			}
			if diff := cmp.Diff(va.ResourceVersions, vb.ResourceVersions); diff != "" {
				t.Errorf("resource versions differ between replicas (-a +b):\n%s", diff)
			}
			mark := len(ca.Responses())
			if err := ca.Failover(context.Background(), b.addr); err != nil {
				t.Fatal(err)
			}
			for _, r := range settle(ca, mark) {
				if len(r.Names) > 0 && (delta || r.TypeURL != envoytest.SecretType) {
					t.Errorf("re-sent after failing over to the other replica: %s %v", r.TypeURL, r.Names)
				}
			}
		})
	}
}

// TestLeaseMovesWhenTheWriterStops: of two replicas, one holds the status
// Lease; when it stops, the other takes the Lease and writes status.
func TestLeaseMovesWhenTheWriterStops(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "lease")
	a, _ := started(t, ns, kubeOptions(ns))
	b := serve(t, kubeOptions(ns))
	stopA := runStatus(t, a.src, ns, "replica-a")
	if got := waitHolder(t, ns, func(h string) bool { return h != "" }); got != "replica-a" {
		t.Fatalf("lease holder %q, want replica-a (the only candidate)", got)
	}
	runStatus(t, b.src, ns, "replica-b")
	waitCondition(t, obj{gwGVR, ns, "gw"}, "trustgate.dev/Accepted", "True")

	stopA()
	// replica-a releases the Lease as it stops (holder ""); replica-b takes
	// it at its next try.
	waitHolder(t, ns, func(h string) bool { return h == "replica-b" })
	// replica-b writes status now: a new object gets its conditions.
	apply(t, ns, vsWithTimeout("4s"))
	waitConditionAt(t, obj{vsGVR, ns, "app"}, "trustgate.dev/Programmed", "True", 2)
}

// waitHolder waits until the Lease's holder satisfies ok and returns it.
func waitHolder(t *testing.T, ns string, ok func(string) bool) string {
	t.Helper()
	var holder string
	for deadline := time.Now().Add(waitFor); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		l, err := api.Client.CoordinationV1().Leases(ns).Get(context.Background(), "trustgate-status", metav1.GetOptions{})
		if err != nil {
			continue // not created yet
		}
		holder = ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		if ok(holder) {
			return holder
		}
	}
	t.Fatalf("lease holder stayed %q", holder)
	return ""
}
