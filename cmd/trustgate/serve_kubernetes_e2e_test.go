package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/deploy"
	"github.com/trustgate/trustgate/internal/kubetest"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

const e2eObjects = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: NS}
spec:
  selector: {app: edge}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [gw.example.com]
    tls: {mode: SIMPLE, credentialName: gw}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: NS}
spec:
  hosts: [gw.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: app.internal, port: {number: 8080}}}]
`

// TestServeKubernetes runs `trustgate serve --kubernetes` as the chart
// does, against a real API server: a proxy gets the objects' configuration,
// readiness follows, the Lease holder writes status, and the webhook over
// TLS refuses a broken object with trustgate's message.
func TestServeKubernetes(t *testing.T) {
	api, err := kubetest.Start()
	if err != nil {
		if kubetest.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Cleanup(func() {
		if err := api.Stop(); err != nil {
			t.Errorf("stopping the API server: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, m := range [][]byte{deploy.IstioCRDs(), deploy.CRD()} {
		if err := kubetest.Apply(ctx, api.Config, "", m); err != nil {
			t.Fatal(err)
		}
	}
	const ns = "edge"
	if _, err := api.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if err := certs.Init(pki, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	gw, err := certs.Issue(pki, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"gw.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := gw.SecretYAML(ns)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(pki, certs.KindServer, certs.IssueOptions{Name: "webhook", Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if err := kubetest.Apply(ctx, api.Config, ns, append(secret, []byte("\n---\n"+strings.ReplaceAll(e2eObjects, "namespace: NS", "namespace: "+ns))...)); err != nil {
		t.Fatal(err)
	}
	kubeconfig := writeKubeconfig(t, dir, api)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt) // stop() interrupts the test process; see TestNoPrivateKeyLeaks
	defer signal.Stop(sig)
	tr := &transcript{t: t}
	s := startServe(t, tr, "serve --kubernetes", "--kubernetes", "--kubeconfig", kubeconfig, "--namespaces", ns,
		"--webhook-addr", "127.0.0.1:0", "--webhook-cert", filepath.Join(pki, "webhook", "tls.crt"), "--webhook-key", filepath.Join(pki, "webhook", "tls.key"),
		"--lease-namespace", ns, "--identity", "replica-1")
	defer s.stop(t, tr)

	c, err := envoytest.Dial(context.Background(), s.xds, envoytest.Options{NodeID: "edge-1", Labels: map[string]string{"app": "edge"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}()
	if v, err := c.WaitComplete(30 * time.Second); err != nil {
		t.Fatal(err)
	} else if len(v.Listeners) != 1 {
		t.Errorf("got %d listeners, want the Gateway's one", len(v.Listeners))
	}
	s.admin(t, tr, http.StatusOK, "/readyz")

	dyn, err := dynamic.NewForConfig(api.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "gateways"}
	var status any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		u, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, "gw", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		status = u.Object["status"]
		if strings.Contains(fmt.Sprint(status), "type:trustgate.dev/Programmed") {
			break
		}
	}
	if !strings.Contains(fmt.Sprint(status), "status:True type:trustgate.dev/Programmed") {
		t.Errorf("the Gateway's status was not written by the Lease holder: %v", status)
	}

	line, err := s.log.waitFor("serving the admission webhook", s.done)
	if err != nil {
		t.Fatal(err)
	}
	var at struct{ Addr string }
	if err := json.Unmarshal([]byte(line), &at); err != nil {
		t.Fatal(err)
	}
	resp := review(t, at.Addr, filepath.Join(pki, "webhook", "ca.crt"), ns, strings.Replace(e2eObjects[strings.Index(e2eObjects, "---")+4:], "gateways: [gw]", "gateways: [gw]\n  hostz: [x]", 1))
	if resp.Allowed || !strings.Contains(resp.Result.Message, `trustgate: VirtualService edge/app: spec.hostz: unknown field "hostz"`) {
		t.Errorf("webhook answer: allowed %v, %v; want a denial naming spec.hostz", resp.Allowed, resp.Result)
	}
}

func writeKubeconfig(t *testing.T, dir string, api *kubetest.APIServer) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: api.Config.Host, CertificateAuthorityData: api.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: api.Config.CertData, ClientKeyData: api.Config.KeyData}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	cfg.CurrentContext = "test"
	p := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// review POSTs an AdmissionReview for the YAML object to the webhook, as
// the API server would.
func review(t *testing.T, addr, caFile, ns, object string) *admissionv1.AdmissionResponse {
	t.Helper()
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	objs, err := kubetest.Decode([]byte(strings.ReplaceAll(object, "namespace: NS", "namespace: "+ns)))
	if err != nil || len(objs) != 1 {
		t.Fatalf("decoding the object: %v (%d objects)", err, len(objs))
	}
	raw, err := objs[0].MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "1", Operation: admissionv1.Create, Namespace: ns, Name: objs[0].GetName(),
			Object: runtime.RawExtension{Raw: raw},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	res, err := hc.Post("https://"+addr+"/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &out); err != nil || out.Response == nil {
		t.Fatalf("webhook answered %d %s (%v)", res.StatusCode, b, err)
	}
	return out.Response
}
