package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shortNameGateway is a plain HTTP gateway whose VirtualService sends to the
// short host "httpbin" in namespace shop.
const shortNameGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*/*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: shop}
spec:
  hosts: [httpbin.example.com]
  gateways: [edge/gw]
  http:
  - route: [{destination: {host: httpbin, port: {number: 8000}}}]
`

// TestCheckShortNames runs check under each --short-names rule: plain DNS
// warns that Istio reads the host differently; Istio's rule does not; an
// unknown rule is a usage error.
func TestCheckShortNames(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(cfg, []byte(shortNameGateway), 0o644); err != nil {
		t.Fatal(err)
	}
	const warning = `short host "httpbin" is resolved by DNS from the gateway`
	cases := map[string]struct {
		args    []string
		code    int
		warns   bool
		stderrs string
	}{
		"default dns":           {args: nil, code: 0, warns: true},
		"kubernetes":            {args: []string{"--short-names", "kubernetes"}, code: 0},
		"unknown rule":          {args: []string{"--short-names", "k8s"}, code: 2, stderrs: `short-name rule "k8s" is not dns or kubernetes`},
		"translate: Istio FQDN": {args: []string{"--short-names=kubernetes"}, code: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := "check"
			if strings.HasPrefix(name, "translate") {
				cmd = "translate"
			}
			args := append([]string{cmd, "--config", cfg}, tc.args...)
			if cmd == "translate" {
				args = append(args, "--node-labels", "istio=ingressgateway")
			}
			code, stdout, stderr := runCapture(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if got := strings.Contains(stdout, warning); got != tc.warns && cmd == "check" {
				t.Errorf("warning shown = %v, want %v:\n%s", got, tc.warns, stdout)
			}
			if tc.stderrs != "" && !strings.Contains(stderr, tc.stderrs) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrs, stderr)
			}
			if cmd == "translate" && !strings.Contains(stdout, "outbound|8000||httpbin.shop.svc.cluster.local") {
				t.Errorf("translate output lacks the Istio cluster name:\n%s", stdout)
			}
		})
	}
}
