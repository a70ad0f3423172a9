package kubernetes_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// gatewayYAML is an mTLS Gateway, a VirtualService routing to the
// Kubernetes Service "backend" by its short name, and that Service with a
// ready endpoint. NS is the test's namespace.
const gatewayYAML = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: NS}
spec:
  selector: {app: edge}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [gw.example.com]
    tls: {mode: MUTUAL, credentialName: gw}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: NS}
spec:
  hosts: [gw.example.com]
  gateways: [gw]
  http:
  - route: [{destination: {host: backend, port: {number: 8080}}}]
`

const backendYAML = `apiVersion: v1
kind: Service
metadata: {name: backend, namespace: NS}
spec:
  ports: [{name: http, port: 8080, targetPort: 9090}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: NS
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: 9090}]
endpoints:
- addresses: [10.1.0.1]
  conditions: {ready: true}
- addresses: [10.1.0.2]
  conditions: {ready: false}
`

const waitFor = 30 * time.Second

func dial(t *testing.T, addr string, labels map[string]string) *envoytest.Client {
	t.Helper()
	return dialOpts(t, addr, envoytest.Options{NodeID: "edge-1", Labels: labels})
}

func dialOpts(t *testing.T, addr string, opts envoytest.Options) *envoytest.Client {
	t.Helper()
	// The stream lives as long as Dial's context: Close ends it.
	c, err := envoytest.Dial(context.Background(), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing the ADS client: %v", err)
		}
	})
	return c
}

// TestObjectsReachEnvoy: objects applied to the API server reach an ADS
// client; the Service's ready endpoint comes over EDS at its target port,
// and its short name was expanded with Istio's namespace rule.
func TestObjectsReachEnvoy(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "reach")
	apply(t, ns, serverSecret(t, t.TempDir(), ns, "gw", "gw.example.com"))
	apply(t, ns, backendYAML)
	apply(t, ns, gatewayYAML)
	r := serve(t, kubeOptions(ns))
	c := dial(t, r.addr, map[string]string{"app": "edge"})
	v, err := c.WaitComplete(waitFor)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Listeners) != 1 || len(v.Secrets) == 0 {
		t.Fatalf("got %d listeners and %d secrets, want 1 listener and the gateway's secrets", len(v.Listeners), len(v.Secrets))
	}
	host := "backend." + ns + ".svc.cluster.local"
	var eps []string
	for name, cla := range v.Endpoints {
		if !strings.Contains(name, host) {
			continue
		}
		for _, le := range cla.Endpoints {
			for _, lb := range le.LbEndpoints {
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				eps = append(eps, sa.GetAddress()+":"+itoa(sa.GetPortValue()))
			}
		}
	}
	if len(eps) != 1 || eps[0] != "10.1.0.1:9090" {
		t.Errorf("endpoints of %s = %v, want [10.1.0.1:9090] (the ready one, at the slice's port)", host, eps)
	}
}

// TestEndpointChangeIsEDSOnly: a pod becoming ready in the Service's
// EndpointSlice reaches the proxy as an EDS push only.
func TestEndpointChangeIsEDSOnly(t *testing.T) {
	requireAPI(t)
	ns := namespace(t, "eds")
	_, c := started(t, ns, kubeOptions(ns))
	mark := len(c.Responses())
	apply(t, ns, strings.Replace(backendYAML, "conditions: {ready: false}", "conditions: {ready: true}", 1))
	host := "backend." + ns + ".svc.cluster.local"
	if _, err := c.Wait(waitFor, "two endpoints", func(v envoytest.View) bool {
		for name, cla := range v.Endpoints {
			if strings.Contains(name, host) && len(cla.Endpoints) > 0 && len(cla.Endpoints[0].LbEndpoints) == 2 {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range settle(c, mark) {
		if r.TypeURL != envoytest.EndpointType {
			t.Errorf("an endpoint change pushed %s %v; only EDS may change", r.TypeURL, r.Names)
		}
	}
}
