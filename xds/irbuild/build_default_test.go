package irbuild

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDefaultServer checks which chains become their port's default server:
// only the chain of a port's only server, when that server terminates TLS
// and names its hosts. The chain keeps its server names (diagnosis checks
// the certificate against them) and its route configuration keeps the
// host binding: the server's hosts, and 421 for any other.
func TestDefaultServer(t *testing.T) {
	const passthrough = `  - port: {number: 443, name: tls, protocol: TLS}
    hosts: [db.example.com]
    tls: {mode: PASSTHROUGH}
`
	const terminatedTCP = `  - port: {number: 443, name: tls, protocol: TLS}
    hosts: [db.example.com]
    tls: {mode: MUTUAL, credentialName: cred}
`
	const secondGateway = `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other, namespace: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [admin.example.com]
    tls: {mode: MUTUAL, credentialName: cred}
`
	type chain struct {
		Names   []string
		Default bool
	}
	tests := map[string]struct {
		yaml string
		want map[string]chain // by chain name
	}{
		"one named HTTPS server": {
			yaml: gatewayHeader + namedTLS + inspectorVS,
			want: map[string]chain{"443/gw.gw.0": {Names: []string{"app.example.com"}, Default: true}},
		},
		"one * server matches everything already": {
			yaml: gatewayHeader + catchAllTLS + inspectorVS,
			want: map[string]chain{"443/gw.gw.0": {}},
		},
		"two servers of one Gateway": {
			yaml: gatewayHeader + twoNamedTLS + inspectorVS,
			want: map[string]chain{
				"443/gw.gw.0": {Names: []string{"app.example.com"}},
				"443/gw.gw.1": {Names: []string{"admin.example.com"}},
			},
		},
		"two Gateways on one port": {
			yaml: gatewayHeader + namedTLS + inspectorVS + secondGateway,
			want: map[string]chain{
				"443/gw.gw.0":    {Names: []string{"app.example.com"}},
				"443/gw.other.0": {Names: []string{"admin.example.com"}},
			},
		},
		"one TLS server terminated for TCP": {
			yaml: gatewayHeader + terminatedTCP + inspectorVS,
			want: map[string]chain{"443/gw.gw.0": {Names: []string{"db.example.com"}, Default: true}},
		},
		"one passthrough server keeps matching on SNI": {
			yaml: gatewayHeader + passthrough + passthroughVS,
			want: map[string]chain{"443/gw.gw.0/db.example.com": {Names: []string{"db.example.com"}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := Build(loadYAML(t, tc.yaml), ingress)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]chain{}
			for _, l := range p.Listeners {
				for _, c := range l.Chains {
					got[c.Name] = chain{Names: c.ServerNames, Default: c.DefaultServer}
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("chains (-want +got):\n%s", d)
			}
		})
	}
}

// TestDefaultServerKeepsHostBinding checks that the default server still
// answers 421 for a Host it does not serve: a client that connects by IP
// without SNI must send one of the server's hosts.
func TestDefaultServerKeepsHostBinding(t *testing.T) {
	p, err := Build(loadYAML(t, gatewayHeader+namedTLS+inspectorVS), ingress)
	if err != nil {
		t.Fatal(err)
	}
	var domains []string
	misdirected := false
	for _, rc := range p.RouteConfigs {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if r.DirectResponse != nil && r.DirectResponse.Status == 421 {
					misdirected = true
					domains = append(domains, vh.Domains...)
				}
			}
		}
	}
	if !misdirected || !slices.Contains(domains, "*") {
		t.Errorf("no 421 for other hosts (421 domains %q):\n%+v", domains, p.RouteConfigs)
	}
}

// passthroughVS routes db.example.com's TLS by SNI.
const passthroughVS = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: gw}
spec:
  hosts: [db.example.com]
  gateways: [gw]
  tls:
  - match: [{sniHosts: [db.example.com], port: 443}]
    route:
    - destination: {host: db.apps.svc.cluster.local, port: {number: 5432}}
`
