package irbuild

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCandidatesOncePerVirtualService: a server's candidates hold each
// VirtualService once, in Istio's order, however many ways it is found (two
// of its hosts on the server, the same host twice in two cases, a wildcard
// host too).
func TestCandidatesOncePerVirtualService(t *testing.T) {
	cfg := loadYAML(t, gatewayHeader+`  - name: two
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["a.example.com", "b.example.com"]
    tls: {mode: SIMPLE, credentialName: cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: z-both, namespace: gw}
spec:
  hosts: ["a.example.com", "B.example.com", "b.example.com", "*.example.com"]
  gateways: [gw, gw/gw]
  http:
  - route: [{destination: {host: x.internal, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-only, namespace: gw}
spec:
  hosts: ["a.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: y.internal, port: {number: 80}}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: m-loose, namespace: gw}
spec:
  hosts: ["*.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: y.internal, port: {number: 80}}}]
`)
	b := &builder{cfg: cfg, node: ingress}
	s := b.serverRef(cfg.Gateways[0], 0)
	var got []string
	for _, vs := range b.vsIndex().candidates(s) {
		got = append(got, vs.Metadata.Name)
	}
	if d := cmp.Diff([]string{"a-only", "m-loose", "z-both"}, got); d != "" {
		t.Errorf("candidates (-want +got):\n%s", d)
	}
}
