package kubernetes_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/internal/kubetest"
	kube "github.com/trustgate/trustgate/source/kubernetes"
)

// startWebhook serves src's webhook over TLS on loopback and registers it
// with the API server for namespace ns only.
func startWebhook(t *testing.T, src *kube.Source, ns string) {
	t.Helper()
	dir := t.TempDir()
	if err := certs.Init(dir, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: "webhook", Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "webhook", "tls.crt"), filepath.Join(dir, "webhook", "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "webhook", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(kube.WebhookPath, src.Webhook())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(lis, "", "") }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("closing the webhook server: %v", err)
		}
		if err := <-served; err != nil && err != http.ErrServerClosed {
			t.Errorf("webhook server: %v", err)
		}
	})

	url := "https://" + lis.Addr().String() + kube.WebhookPath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "trustgate-" + ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "validate.trustgate.dev",
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			TimeoutSeconds:          &timeout,
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{"networking.istio.io"}, APIVersions: []string{"*"},
					Resources: []string{"gateways", "virtualservices", "destinationrules", "serviceentries"},
				},
			}},
		}},
	}
	whc := api.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := whc.Create(context.Background(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := whc.Delete(context.Background(), cfg.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("deleting the webhook configuration: %v", err)
		}
	})
}

// warnings collects the API server's warnings (admission warnings included).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.list, "\n")
}

// applyAs applies manifests with cfg, returning the error.
func applyAs(cfg *rest.Config, ns, manifests string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return kubetest.Apply(ctx, cfg, ns, []byte(strings.ReplaceAll(manifests, "namespace: NS", "namespace: "+ns)))
}

// TestWebhookRefusesWithOurMessage: the API server calls the webhook over
// TLS; a VirtualService with an unknown field is refused with trustgate's
// message, a good edit passes, a Gateway whose certificate's key does not
// match is refused by the certificate diagnosis, and a Gateway naming a
// Secret that does not exist yet passes with a warning.
func TestWebhookRefusesWithOurMessage(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "webhook")
	r, _ := started(t, ns, kubeOptions(ns))
	startWebhook(t, r.src, ns)

	bad := strings.Replace(vsWithTimeout("3s"), "timeout: 3s", "timeout: 3s\n    retriez: {attempts: 3}", 1)
	var err error
	// The API server picks up a new webhook configuration within a moment.
	for deadline := time.Now().Add(waitFor); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = applyAs(api.Config, ns, bad); err != nil {
			break
		}
	}
	want := `trustgate: VirtualService ` + ns + `/app: spec.http[0].retriez: unknown field "retriez"`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "denied the request") {
		t.Fatalf("applying a broken VirtualService: %v; want a denial with %q", err, want)
	}

	if err := applyAs(api.Config, ns, vsWithTimeout("3s")); err != nil {
		t.Errorf("a good edit was refused: %v", err)
	}

	// Certificate diagnosis, as `trustgate check` runs it: a Gateway whose
	// Secret holds a key of another certificate is refused.
	good := serverSecret(t, t.TempDir(), ns, "mismatched", "gw2.example.com")
	other := serverSecret(t, t.TempDir(), ns, "mismatched", "gw2.example.com")
	key := func(y string) string { return y[strings.Index(y, "  tls.key:"):] }
	apply(t, ns, strings.Replace(good, key(good), key(other), 1)) // Secrets do not go through the webhook
	gw2 := strings.NewReplacer("name: gw,", "name: gw2,", "gw.example.com", "gw2.example.com", "credentialName: gw", "credentialName: mismatched").
		Replace(gatewayYAML[:strings.Index(gatewayYAML, "---")])
	err = applyAs(api.Config, ns, gw2)
	if err == nil || !strings.Contains(err.Error(), "trustgate: Gateway "+ns+"/gw2: Secret "+ns+"/mismatched") || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("applying a Gateway whose Secret's key does not match: %v; want a denial naming the Secret and the mismatch", err)
	}

	w := &warnings{}
	cfg := rest.CopyConfig(api.Config)
	cfg.WarningHandler = w
	missing := strings.Replace(gatewayYAML[:strings.Index(gatewayYAML, "---")], "credentialName: gw", "credentialName: not-yet", 1)
	if err := applyAs(cfg, ns, missing); err != nil {
		t.Fatalf("a Gateway naming a Secret not created yet was refused: %v", err)
	}
	if got := w.all(); !strings.Contains(got, `secret "not-yet" not found`) && !strings.Contains(got, `"not-yet-cacert" and "not-yet" not found`) {
		t.Errorf("warnings = %q, want the missing Secret named", got)
	}
}
