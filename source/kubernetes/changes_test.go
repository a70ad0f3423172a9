package kubernetes_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	kube "github.com/trustgate/trustgate/source/kubernetes"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// quiet is how long a test waits to see that nothing more arrives.
const quiet = 1500 * time.Millisecond

// vsWithTimeout is the VirtualService of gatewayYAML with a route timeout.
func vsWithTimeout(timeout string) string {
	return fmt.Sprintf(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: NS}
spec:
  hosts: [gw.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: backend, port: {number: 8080}}}]
    timeout: %s
`, timeout)
}

// routeTimeout is the timeout of the first route of the view, "" if none.
func routeTimeout(v envoytest.View) string {
	for _, rc := range v.Routes {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if a, ok := r.Action.(*routev3.Route_Route); ok && a.Route.Timeout != nil {
					return a.Route.Timeout.AsDuration().String()
				}
			}
		}
	}
	return ""
}

// started applies the test objects and returns a replica and a fake Envoy
// holding a complete configuration.
func started(t *testing.T, ns string, opts kube.Options) (*serving, *envoytest.Client) {
	t.Helper()
	apply(t, ns, serverSecret(t, t.TempDir(), ns, "gw", "gw.example.com"))
	apply(t, ns, backendYAML)
	apply(t, ns, gatewayYAML)
	r := serve(t, opts)
	c := dial(t, r.addr, map[string]string{"app": "edge"})
	if _, err := c.WaitComplete(waitFor); err != nil {
		t.Fatal(err)
	}
	return r, c
}

// settle waits until the client received nothing for the quiet time and
// returns the responses since mark.
func settle(c *envoytest.Client, mark int) []envoytest.Response {
	n := len(c.Responses())
	for deadline := time.Now().Add(waitFor); time.Now().Before(deadline); {
		time.Sleep(quiet) // the quiet time is the point: nothing more may come
		if m := len(c.Responses()); m == n {
			break
		} else {
			n = m
		}
	}
	return c.Responses()[mark:]
}

func types(rs []envoytest.Response) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.TypeURL[strings.LastIndex(r.TypeURL, ".")+1:])
	}
	return out
}

// TestBurstOfEditsIsOnePush: three edits of a VirtualService applied in
// quick succession are one reload, and the proxy gets one route push and
// nothing else.
func TestBurstOfEditsIsOnePush(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "burst")
	opts := kubeOptions(ns)
	opts.Debounce = 400 * time.Millisecond
	_, c := started(t, ns, opts)
	mark := len(c.Responses())
	for _, to := range []string{"1s", "2s", "3s"} {
		apply(t, ns, vsWithTimeout(to))
	}
	if _, err := c.Wait(waitFor, "route timeout 3s", func(v envoytest.View) bool { return routeTimeout(v) == "3s" }); err != nil {
		t.Fatal(err)
	}
	got := settle(c, mark)
	if len(got) != 1 || got[0].TypeURL != envoytest.RouteType {
		t.Errorf("responses after a burst of three edits: %v, want one RouteConfiguration push", types(got))
	}
}

// TestSecretRotationIsSDSOnly: a new certificate in the Secret reaches the
// proxy as a Secret push only; listeners, routes and clusters stay.
func TestSecretRotationIsSDSOnly(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "rotate")
	_, c := started(t, ns, kubeOptions(ns))
	before := c.View()
	mark := len(c.Responses())
	apply(t, ns, serverSecret(t, t.TempDir(), ns, "gw", "gw.example.com")) // a new PKI, a new certificate
	if _, err := c.Wait(waitFor, "a new secret version", func(v envoytest.View) bool {
		return v.Versions[envoytest.SecretType] != before.Versions[envoytest.SecretType]
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range settle(c, mark) {
		if r.TypeURL != envoytest.SecretType {
			t.Errorf("a Secret rotation pushed %s %v; only SDS may change", r.TypeURL, r.Names)
		}
	}
}

// TestBrokenObjectKeepsLastGood: a VirtualService with an unknown field
// (the Istio CRDs keep it) is refused: its status says why and that its
// previous generation is still served, and the proxy keeps the previous
// configuration until the object is fixed.
func TestBrokenObjectKeepsLastGood(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "broken")
	r, c := started(t, ns, kubeOptions(ns))
	runStatus(t, r.src, ns, "replica-a")
	waitCondition(t, obj{vsGVR, ns, "app"}, "trustgate.dev/Programmed", "True")
	mark := len(c.Responses())

	apply(t, ns, strings.Replace(vsWithTimeout("3s"), "timeout: 3s", "timeout: 3s\n    retriez: {attempts: 3}", 1))
	vs := waitCondition(t, obj{vsGVR, ns, "app"}, "trustgate.dev/Accepted", "False")
	msg := conditionMessage(vs, "trustgate.dev/Accepted")
	if !strings.Contains(msg, `spec.http[0].retriez: unknown field "retriez"`) {
		t.Errorf("Accepted message = %q, want the decoder's message at the field path", msg)
	}
	vms, _, _ := unstructured.NestedSlice(vs.Object, "status", "validationMessages")
	if len(vms) == 0 || !strings.Contains(fmt.Sprint(vms), "TG0001") {
		t.Errorf("status.validationMessages = %v, want a TG0001 entry", vms)
	}
	vs = waitCondition(t, obj{vsGVR, ns, "app"}, "trustgate.dev/Programmed", "False")
	if m := conditionMessage(vs, "trustgate.dev/Programmed"); !strings.Contains(m, "held back by this object's errors") || !strings.Contains(m, "generation 1 is still served") {
		t.Errorf("VirtualService Programmed message = %q, want it held back with generation 1 still served", m)
	}
	// The Gateway did not change: its generation is the one served.
	waitCondition(t, obj{gwGVR, ns, "gw"}, "trustgate.dev/Programmed", "True")
	if got := settle(c, mark); len(got) != 0 {
		t.Errorf("a broken object pushed %v; the last good configuration must stay", types(got))
	}
	if to := routeTimeout(c.View()); to == "3s" {
		t.Errorf("route timeout %q reached the proxy from a refused object", to)
	}

	// Fixed: accepted, served, and pushed.
	apply(t, ns, vsWithTimeout("3s"))
	waitCondition(t, obj{vsGVR, ns, "app"}, "trustgate.dev/Programmed", "True")
	if _, err := c.Wait(waitFor, "route timeout 3s", func(v envoytest.View) bool { return routeTimeout(v) == "3s" }); err != nil {
		t.Fatal(err)
	}
}

var (
	vsGVR = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "virtualservices"}
	gwGVR = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "gateways"}
)

// runStatus runs the status writer of src until the test ends.
func runStatus(t *testing.T, src *kube.Source, ns, identity string) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.RunStatus(ctx, kube.StatusOptions{
			Identity: identity, LeaseNamespace: ns, LeaseName: "trustgate-status",
			LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond,
		})
	}()
	var once bool
	stop := func() {
		if once {
			return
		}
		once = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("status writer: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// obj names an object of the API.
type obj struct {
	gvr      schema.GroupVersionResource
	ns, name string
}

// waitCondition waits until the object has the condition with status.
func waitCondition(t *testing.T, o obj, typ, status string) *unstructured.Unstructured {
	t.Helper()
	return waitConditionAt(t, o, typ, status, 0)
}

// waitConditionAt is waitCondition for the condition's observedGeneration
// gen (0: any).
func waitConditionAt(t *testing.T, o obj, typ, status string, gen int64) *unstructured.Unstructured {
	t.Helper()
	dyn, err := dynamic.NewForConfig(api.Config)
	if err != nil {
		t.Fatal(err)
	}
	var last *unstructured.Unstructured
	for deadline := time.Now().Add(waitFor); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		u, err := dyn.Resource(o.gvr).Namespace(o.ns).Get(context.Background(), o.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		last = u
		if conditionStatus(u, typ) == status && (gen == 0 || condition(u, typ)["observedGeneration"] == gen) {
			return u
		}
	}
	t.Fatalf("%s %s/%s: condition %s never became %s (generation %d); status: %v", o.gvr.Resource, o.ns, o.name, typ, status, gen, last.Object["status"])
	return nil
}

func condition(u *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

func conditionStatus(u *unstructured.Unstructured, typ string) string {
	s, _ := condition(u, typ)["status"].(string)
	return s
}

func conditionMessage(u *unstructured.Unstructured, typ string) string {
	s, _ := condition(u, typ)["message"].(string)
	return s
}

// TestSecretProblemShowsOnItsGateway: a Secret edit that would be held
// back (a key that does not match the certificate) is reported on the
// Gateway that uses the Secret, in its status and as an Event, and the
// proxy keeps the previous certificate.
func TestSecretProblemShowsOnItsGateway(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "badkey")
	r, c := started(t, ns, kubeOptions(ns))
	runStatus(t, r.src, ns, "replica-a")
	waitCondition(t, obj{gwGVR, ns, "gw"}, "trustgate.dev/Programmed", "True")
	mark := len(c.Responses())

	// The certificate of one PKI with the key of another.
	good := serverSecret(t, t.TempDir(), ns, "gw", "gw.example.com")
	other := serverSecret(t, t.TempDir(), ns, "gw", "gw.example.com")
	key := func(y string) string { return y[strings.Index(y, "  tls.key:"):] }
	apply(t, ns, strings.Replace(good, key(good), key(other), 1))

	gw := waitCondition(t, obj{gwGVR, ns, "gw"}, "trustgate.dev/Accepted", "False")
	if m := conditionMessage(gw, "trustgate.dev/Accepted"); !strings.Contains(m, "Secret "+ns+"/gw") || !strings.Contains(m, "does not match") {
		t.Errorf("Gateway Accepted message = %q, want the Secret and the mismatch", m)
	}
	var events string
	for deadline := time.Now().Add(waitFor); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		list, err := api.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=gw,reason=Invalid"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 0 {
			events = list.Items[0].Message
			break
		}
	}
	if !strings.Contains(events, "does not match") {
		t.Errorf("no Invalid Event on the Gateway about the key (got %q)", events)
	}
	if got := settle(c, mark); len(got) != 0 {
		t.Errorf("a held-back Secret pushed %v", types(got))
	}
}
