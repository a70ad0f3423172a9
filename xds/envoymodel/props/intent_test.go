package props_test

import (
	"testing"

	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// unboundDerived is a plaintext host with a DENY rule on x-client-dn, a
// header only a VirtualService for a host no server serves fills from the
// certificate: that VirtualService builds no route, so on this proxy the
// header is the client's, and the DENY judges the client's copy.
const unboundDerived = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: plain
    port: {number: 80, name: http, protocol: HTTP}
    hosts: ["x.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: x, namespace: edge}
spec:
  hosts: ["x.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: x.internal, port: {number: 8080}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: elsewhere, namespace: edge}
spec:
  hosts: ["a.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: a.internal, port: {number: 8080}}}]
    headers: {request: {set: {x-client-dn: "%DOWNSTREAM_PEER_SUBJECT%"}}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-alice, namespace: edge}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - when: [{key: "request.headers[x-client-dn]", values: ["CN=alice,O=Example"]}]
`

// TestDerivedOnlyFromBoundRoutes: a header counts as filled from the
// certificate only when a VirtualService that routes on the proxy fills
// it; otherwise the evaluator reads the client's copy, as Envoy's RBAC
// does. FuzzGeneratedGateway found the evaluator reading every
// VirtualService.
func TestDerivedOnlyFromBoundRoutes(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	cfg, groups := envoymodeltest.LoadYAML(t, p, unboundDerived)
	r, err := props.Run(cfg, groups[0].LabelMap, groups[0].Resources, props.Options{}.With(pkiClients(p), p.Now))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range r.Violations {
		t.Errorf("%s", v)
	}
	in, err := props.ReadIntent(cfg, groups[0].LabelMap)
	if err != nil {
		t.Fatal(err)
	}
	if _, derived := in.Derived["x-client-dn"]; derived {
		t.Errorf("x-client-dn counts as derived, though the VirtualService that fills it routes nowhere on this proxy")
	}
}
