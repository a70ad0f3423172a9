package deploy_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/trustgate/trustgate/internal/kubetest"
)

var (
	api  *kubetest.APIServer
	skip string
)

func TestMain(m *testing.M) {
	var err error
	if api, err = kubetest.Start(); err != nil {
		if kubetest.Required() {
			fmt.Fprintln(os.Stderr, "deploy: TRUSTGATE_REQUIRE_KUBE is set and the API server did not start:", err)
			os.Exit(1)
		}
		skip = err.Error()
		fmt.Fprintln(os.Stderr, "deploy: Kubernetes tests skip:", skip)
		api = nil
	}
	code := m.Run()
	if api != nil {
		if err := api.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the API server:", err)
		}
	}
	os.Exit(code)
}

// render renders the chart, failing the test on error.
func render(t *testing.T, release, ns string, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	out, err := kubetest.RenderChart(release, ns, values)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := kubetest.Decode(out)
	if err != nil {
		t.Fatalf("rendered chart is not YAML: %v\n%s", err, out)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// TestChartIsAcceptedByTheAPIServer renders the chart as `helm template
// --include-crds` would, with the default values and with a namespace
// list, and applies every object to a real API server: every object must
// be accepted (no pods run: there is no kubelet).
func TestChartIsAcceptedByTheAPIServer(t *testing.T) {
	if api == nil {
		t.Skip(skip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, tc := range map[string]struct {
		ns     string
		values map[string]any
	}{
		"defaults":   {ns: "trustgate-system", values: map[string]any{"istioCRDs": true}},
		"namespaces": {ns: "tg-scoped", values: map[string]any{"namespaces": []any{"team-a", "team-b"}, "xds": map[string]any{"tls": false}}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, ns := range []string{tc.ns, "team-a", "team-b"} {
				_, err := api.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					t.Fatal(err)
				}
			}
			objs := render(t, "trustgate", tc.ns, tc.values)
			if err := kubetest.ApplyObjects(ctx, api.Config, tc.ns, objs); err != nil {
				t.Fatal(err)
			}
			for _, want := range []struct{ kind, name string }{
				{"CustomResourceDefinition", "clientcertificatepolicies.trustgate.dev"},
				{"Deployment", "trustgate"}, {"Deployment", "trustgate-gateway"},
				{"Service", "trustgate-xds"}, {"Service", "trustgate-webhook"}, {"Service", "trustgate-gateway"},
				{"ServiceAccount", "trustgate"}, {"PodDisruptionBudget", "trustgate"},
				{"ValidatingWebhookConfiguration", "trustgate"}, {"Role", "trustgate-lease"},
			} {
				if find(objs, want.kind, want.name) == nil {
					t.Errorf("the chart has no %s %s", want.kind, want.name)
				}
			}
		})
	}
}

// TestChartDeployment checks what the Deployment promises: two replicas,
// probes on /healthz and /readyz, a non-root read-only container, and the
// gateway's bootstrap written by `trustgate bootstrap`.
func TestChartDeployment(t *testing.T) {
	objs := render(t, "tg", "edge", nil)
	d := find(objs, "Deployment", "tg")
	if d == nil {
		t.Fatal("no Deployment tg")
	}
	if r, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); fmt.Sprint(r) != "2" {
		t.Errorf("replicas = %v, want 2", r)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if got, _, _ := unstructured.NestedString(c, probe, "httpGet", "path"); got != path {
			t.Errorf("%s path = %q, want %q", probe, got, path)
		}
	}
	for field, want := range map[string]bool{"runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false} {
		if got, _, _ := unstructured.NestedBool(c, "securityContext", field); got != want {
			t.Errorf("securityContext.%s = %v, want %v", field, got, want)
		}
	}
	args := fmt.Sprint(c["args"])
	for _, a := range []string{"--kubernetes", "--xds-cert=", "--xds-authz=", "--webhook-addr=", "--lease-name=trustgate-status"} {
		if !strings.Contains(args, a) {
			t.Errorf("trustgate args %s lack %s", args, a)
		}
	}
	gw := find(objs, "Deployment", "tg-gateway")
	if gw == nil {
		t.Fatal("no gateway Deployment")
	}
	inits, _, _ := unstructured.NestedSlice(gw.Object, "spec", "template", "spec", "initContainers")
	bargs := fmt.Sprint(inits[0].(map[string]any)["args"])
	for _, a := range []string{"bootstrap", "--node-id=tg-gateway", "--node-labels=app=trustgate-gateway", "--xds-addr=tg-xds.edge.svc:18000", "--output-file=/etc/envoy/bootstrap/envoy.yaml"} {
		if !strings.Contains(bargs, a) {
			t.Errorf("bootstrap init container args %s lack %s", bargs, a)
		}
	}
	// Plaintext xDS must be asked for on both ends: trustgate and the
	// bootstrap refuse it off loopback otherwise.
	plain := render(t, "tg", "edge", map[string]any{"xds": map[string]any{"tls": false}})
	pc, _, _ := unstructured.NestedSlice(find(plain, "Deployment", "tg").Object, "spec", "template", "spec", "containers")
	pi, _, _ := unstructured.NestedSlice(find(plain, "Deployment", "tg-gateway").Object, "spec", "template", "spec", "initContainers")
	for what, args := range map[string]any{"trustgate": pc[0].(map[string]any)["args"], "bootstrap": pi[0].(map[string]any)["args"]} {
		if !strings.Contains(fmt.Sprint(args), "--insecure-xds") {
			t.Errorf("with xds.tls=false the %s args %v lack --insecure-xds", what, args)
		}
	}
	authz := find(objs, "ConfigMap", "tg-xds-authz")
	if authz == nil || !strings.Contains(fmt.Sprint(authz.Object["data"]), "identity: tg-gateway") {
		t.Errorf("xds authz ConfigMap does not bind the gateway identity: %v", authz)
	}
}

// TestDockerfile checks the root Dockerfile's promises, since no image is
// built here: multi-stage, a static binary, distroless, non-root.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(b)
	for _, want := range []string{
		"FROM golang:", " AS build", "CGO_ENABLED=0 go build",
		"FROM gcr.io/distroless/static-debian12:nonroot", "COPY --from=build", "USER 65532:65532",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// TestChartUpgradeKeepsCertificates: rendered as `helm upgrade` renders
// (lookup sees the cluster), the chart keeps the xDS and webhook
// certificates of the installed release, so running gateways are not
// refused and the webhook's caBundle still matches its certificate.
func TestChartUpgradeKeepsCertificates(t *testing.T) {
	if api == nil {
		t.Skip(skip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const ns = "tg-upgrade"
	_, err := api.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) { // -count=2 runs it again
		t.Fatal(err)
	}
	install := render(t, "tg", ns, map[string]any{"istioCRDs": true})
	if err := kubetest.ApplyObjects(ctx, api.Config, ns, install); err != nil {
		t.Fatal(err)
	}
	out, err := kubetest.RenderChartWith(api.Config, "tg", ns, map[string]any{"istioCRDs": true})
	if err != nil {
		t.Fatal(err)
	}
	upgrade, err := kubetest.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"tg-xds-tls", "tg-gateway-xds-tls", "tg-webhook-tls"} {
		before, after := find(install, "Secret", s), find(upgrade, "Secret", s)
		if before == nil || after == nil {
			t.Fatalf("Secret %s missing from a rendering", s)
		}
		if fmt.Sprint(before.Object["data"]) != fmt.Sprint(after.Object["data"]) {
			t.Errorf("Secret %s changed on upgrade", s)
		}
	}
	bundle := func(objs []*unstructured.Unstructured) any {
		hooks, _, _ := unstructured.NestedSlice(find(objs, "ValidatingWebhookConfiguration", "tg").Object, "webhooks")
		return hooks[0].(map[string]any)["clientConfig"].(map[string]any)["caBundle"]
	}
	if bundle(install) != bundle(upgrade) {
		t.Error("the webhook's caBundle changed on upgrade")
	}
	if fresh := render(t, "tg", ns, map[string]any{"istioCRDs": true}); fmt.Sprint(find(fresh, "Secret", "tg-xds-tls").Object["data"]) == fmt.Sprint(find(install, "Secret", "tg-xds-tls").Object["data"]) {
		t.Error("two renderings without the cluster made the same certificates; the test proves nothing")
	}
}
