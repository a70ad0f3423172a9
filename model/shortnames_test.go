package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const shortNamesDoc = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: shop}
spec:
  hosts: [httpbin, www.example.com]
  gateways: [edge/gw]
  http:
  - route: [{destination: {host: httpbin, port: {number: 8000}}}]
  tcp:
  - route: [{destination: {host: 10.0.0.1, port: {number: 5432}}}, {destination: {host: db, port: {number: 5432}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: shop}
spec:
  host: httpbin
`

func TestShortNames(t *testing.T) {
	tests := map[string]struct {
		rule     ShortNameRule
		domain   string
		hosts    []string // VS hosts, HTTP, TCP destinations, DR host
		warnings []string
	}{
		"dns keeps names and warns": {
			rule:  ShortNamesDNS,
			hosts: []string{"httpbin", "www.example.com", "httpbin", "10.0.0.1", "db", "httpbin"},
			warnings: []string{
				`case.yaml:5: VirtualService shop/vs: spec.hosts[0]: short host "httpbin" matches the Host header as written; Istio reads it as "httpbin.shop.svc.cluster.local". Write the full name, or run with --short-names kubernetes for Istio's rule`,
				`case.yaml:8: VirtualService shop/vs: spec.http[0].route[0].destination.host: short host "httpbin" is resolved by DNS from the gateway (in Kubernetes through its pod's search path, so in the gateway's namespace); Istio reads it as "httpbin.shop.svc.cluster.local". Write the full name, or run with --short-names kubernetes for Istio's rule`,
				`case.yaml:10: VirtualService shop/vs: spec.tcp[0].route[1].destination.host: short host "db" is resolved by DNS from the gateway (in Kubernetes through its pod's search path, so in the gateway's namespace); Istio reads it as "db.shop.svc.cluster.local". Write the full name, or run with --short-names kubernetes for Istio's rule`,
				`case.yaml:16: DestinationRule shop/dr: spec.host: short host "httpbin" applies to destinations written the same way, in any namespace; Istio reads it as "httpbin.shop.svc.cluster.local". Write the full name, or run with --short-names kubernetes for Istio's rule`,
			},
		},
		"kubernetes: Istio's rule, IPs and full names kept": {
			rule: ShortNamesKubernetes, domain: "corp.internal",
			hosts: []string{"httpbin.shop.svc.corp.internal", "www.example.com", "httpbin.shop.svc.corp.internal", "10.0.0.1", "db.shop.svc.corp.internal", "httpbin.shop.svc.corp.internal"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, errs := loadText(t, shortNamesDoc)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			cfg.ShortNames, cfg.ClusterDomain = tc.rule, tc.domain
			r := cfg.ResolveShortNames()
			vs, dr := r.VirtualServices[0], r.DestinationRules[0]
			got := append(append([]string(nil), vs.Spec.Hosts...), vs.Spec.HTTP[0].Route[0].Destination.Host,
				vs.Spec.TCP[0].Route[0].Destination.Host, vs.Spec.TCP[0].Route[1].Destination.Host, dr.Spec.Host)
			if diff := cmp.Diff(tc.hosts, got); diff != "" {
				t.Errorf("hosts (-want +got):\n%s", diff)
			}
			if cfg.VirtualServices[0].Spec.Hosts[0] != "httpbin" || cfg.DestinationRules[0].Spec.Host != "httpbin" {
				t.Error("ResolveShortNames changed the original objects")
			}
			var warnings []string
			for _, w := range cfg.ShortNameWarnings() {
				warnings = append(warnings, "case.yaml"+strings.SplitN(w.Error(), "case.yaml", 2)[1])
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseShortNameRule(t *testing.T) {
	for in, want := range map[string]ShortNameRule{"": ShortNamesDNS, "DNS": ShortNamesDNS, "kubernetes": ShortNamesKubernetes} {
		if got, err := ParseShortNameRule(in); err != nil || got != want {
			t.Errorf("ParseShortNameRule(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseShortNameRule("k8s"); err == nil {
		t.Error(`ParseShortNameRule("k8s") succeeded`)
	}
}
