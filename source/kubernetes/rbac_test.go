package kubernetes_test

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/trustgate/trustgate/internal/kubetest"
)

// TestChartRBACIsEnough runs the source and the status writer as the
// chart's service account, with only the chart's Role and RoleBindings
// (namespaced mode): reading every kind, the referenced Secret, the
// Service and its EndpointSlices, holding the Lease and writing status
// must all be allowed, or the test fails with the API server's refusal.
func TestChartRBACIsEnough(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "rbac")
	manifests, err := kubetest.RenderChart("trustgate", ns, map[string]any{
		"namespaces": []any{ns},
		// Neither runs here: a webhook without a server would refuse
		// every object of the namespace.
		"webhook": map[string]any{"enabled": false},
		"gateway": map[string]any{"enabled": false},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kubetest.Apply(ctx, api.Config, ns, manifests); err != nil {
		t.Fatal(err)
	}
	apply(t, ns, serverSecret(t, t.TempDir(), ns, "gw", "gw.example.com"))
	apply(t, ns, backendYAML)
	apply(t, ns, gatewayYAML)

	sa := rest.CopyConfig(api.Config)
	sa.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":trustgate"}
	r := serveAs(t, sa, kubeOptions(ns))
	c := dial(t, r.addr, map[string]string{"app": "edge"})
	if _, err := c.WaitComplete(waitFor); err != nil {
		t.Fatal(err)
	}
	runStatus(t, r.src, ns, "replica-a")
	waitCondition(t, obj{gwGVR, ns, "gw"}, "trustgate.dev/Programmed", "True")
	waitCondition(t, obj{vsGVR, ns, "app"}, "trustgate.dev/Accepted", "True")
}
