package irbuild

import (
	"fmt"
	"testing"
)

// TestTLSInspectorWhereSNIIsRead checks that a listener gets the
// tls_inspector whenever something on it reads the SNI: a chain that
// matches on server names or transport protocol, an authorization rule on
// connection.sni, or the access log of a TLS port. Envoy's RBAC requested_server_name reads the
// connection's requested server name, which only the inspector records;
// without it a DENY on SNI never applies and an ALLOW on SNI never matches.
func TestTLSInspectorWhereSNIIsRead(t *testing.T) {
	const sniPolicy = `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: sni, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
  action: %s
  rules:
  - when:
    - key: connection.sni
      %s: ["admin.example.com"]
`
	const portPolicy = `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: port, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
  action: DENY
  rules:
  - when:
    - key: destination.port
      values: ["9999"]
`
	// Access logs record the SNI of a TLS port, so they put the inspector on
	// every TLS port; the cases are run with them off unless they say so.
	const logsOff = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    accessLogFile: \"\"\n"
	tests := map[string]struct {
		server string // the Gateway's only server
		policy string
		logsOn bool
		want   bool
	}{
		"access logs on, a TLS port":         {server: catchAllTLS, policy: portPolicy, logsOn: true, want: true},
		"access logs on, a plain TCP port":   {server: plainTCP, logsOn: true},
		"one * TLS server, no SNI rule":      {server: catchAllTLS, policy: portPolicy},
		"one * TLS server, DENY on SNI":      {server: catchAllTLS, policy: fmt.Sprintf(sniPolicy, "DENY", "values"), want: true},
		"one * TLS server, ALLOW on SNI":     {server: catchAllTLS, policy: fmt.Sprintf(sniPolicy, "ALLOW", "values"), want: true},
		"one * TLS server, ALLOW on not SNI": {server: catchAllTLS, policy: fmt.Sprintf(sniPolicy, "ALLOW", "notValues"), want: true},
		"the port's only server, named":      {server: namedTLS, policy: portPolicy},
		"server names match on SNI":          {server: twoNamedTLS, want: true},
		"plain TCP server, DENY on SNI":      {server: plainTCP, policy: fmt.Sprintf(sniPolicy, "DENY", "values"), want: true},
		"plain TCP server, no SNI rule":      {server: plainTCP},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			yaml := gatewayHeader + tc.server + inspectorVS + tc.policy
			if !tc.logsOn {
				yaml += logsOff
			}
			p, err := Build(loadYAML(t, yaml), ingress)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Listeners) != 1 {
				t.Fatalf("want one listener, got %d", len(p.Listeners))
			}
			if got := p.Listeners[0].TLSInspector; got != tc.want {
				t.Errorf("TLSInspector = %v, want %v", got, tc.want)
			}
		})
	}
}

// Servers for gatewayHeader.
const (
	catchAllTLS = `  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: MUTUAL, credentialName: cred}
`
	namedTLS = `  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.com]
    tls: {mode: MUTUAL, credentialName: cred}
`
	twoNamedTLS = namedTLS + `  - port: {number: 443, name: https-admin, protocol: HTTPS}
    hosts: [admin.example.com]
    tls: {mode: MUTUAL, credentialName: cred}
`
	plainTCP = `  - port: {number: 443, name: tcp, protocol: TCP}
    hosts: ["*"]
`
)

// inspectorVS routes HTTP and TCP on 443 to one backend.
const inspectorVS = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: gw}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route:
    - destination: {host: app.apps.svc.cluster.local, port: {number: 8080}}
  tcp:
  - route:
    - destination: {host: app.apps.svc.cluster.local, port: {number: 8080}}
`
