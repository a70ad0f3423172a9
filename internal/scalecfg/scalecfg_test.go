package scalecfg_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/xds/translate"
)

// TestWorkloadLoads: the Istio workload loads, and its one proxy group gets
// a filter chain and a route configuration per host and a cluster per
// backend; a revision changes one route configuration only.
func TestWorkloadLoads(t *testing.T) {
	tests := map[string]struct {
		opts             scalecfg.Options
		chains, clusters int
	}{
		"one route, 120 hosts in 3 Gateways": {opts: scalecfg.Options{Hosts: 120}, chains: 120, clusters: 120},
		"two routes, 7 hosts, 2 per Gateway": {opts: scalecfg.Options{Hosts: 7, PerGateway: 2, Routes: 2}, chains: 7, clusters: 14},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := scalecfg.Write(dir, tc.opts, true); err != nil {
				t.Fatal(err)
			}
			before := compileDir(t, dir)
			if len(before.Listeners) != 1 || len(before.Listeners[0].GetFilterChains()) != tc.chains {
				t.Fatalf("%d listeners, want 1 with %d chains", len(before.Listeners), tc.chains)
			}
			if len(before.Routes) != tc.chains || len(before.Clusters) != tc.clusters {
				t.Errorf("%d route configurations and %d clusters, want %d and %d", len(before.Routes), len(before.Clusters), tc.chains, tc.clusters)
			}
			rev := tc.opts
			rev.Rev = 1
			if err := scalecfg.ReplaceFile(filepath.Join(dir, scalecfg.IstioFile), func(w io.Writer) error { return scalecfg.Istio(w, rev) }); err != nil {
				t.Fatal(err)
			}
			after := compileDir(t, dir)
			changed := 0
			for i := range after.Routes {
				if !bytes.Equal(mustJSON(t, before.Routes[i]), mustJSON(t, after.Routes[i])) {
					changed++
				}
			}
			if changed != 1 {
				t.Errorf("a revision changed %d route configurations, want 1", changed)
			}
		})
	}
}

// TestPoliciesWorkload: with Policies every host's chain gets the RBAC of
// its two policies (its DENY, then its allow-list) and its client CA from
// its ClientCertificatePolicy, and every backend's cluster its
// DestinationRule's connection limit; the Gateway API workload refuses it.
func TestPoliciesWorkload(t *testing.T) {
	dir := t.TempDir()
	opts := scalecfg.Options{Hosts: 7, PerGateway: 3, Routes: 2, Policies: true}
	if err := scalecfg.Write(dir, opts, false); err != nil {
		t.Fatal(err)
	}
	res := compileDir(t, dir)
	if len(res.Listeners) != 1 || len(res.Listeners[0].GetFilterChains()) != 7 {
		t.Fatalf("%d listeners, want 1 with 7 chains", len(res.Listeners))
	}
	for _, fc := range res.Listeners[0].GetFilterChains() {
		text := string(mustJSON(t, fc))
		host := strings.TrimPrefix(fc.GetName(), "443/edge.")
		host = host[strings.Index(host, ".")+1:]
		for _, want := range []string{"envoy.filters.http.rbac", "/admin", "CN=client-" + strings.TrimPrefix(host, "h"), "client-ca"} {
			if !strings.Contains(text, want) {
				t.Errorf("chain %s lacks %q", fc.GetName(), want)
			}
		}
	}
	if len(res.Clusters) != 14 {
		t.Fatalf("%d clusters, want 14", len(res.Clusters))
	}
	for _, c := range res.Clusters {
		if got := c.GetCircuitBreakers().GetThresholds()[0].GetMaxConnections().GetValue(); got != 100 {
			t.Errorf("cluster %s: max connections %d, want 100 (its DestinationRule)", c.GetName(), got)
		}
	}
	if err := scalecfg.GatewayAPI(io.Discard, opts, filepath.Join(dir, scalecfg.SecretsDir)); err == nil {
		t.Error("GatewayAPI wrote a workload with Policies; want an error")
	}
}

// TestGatewayAPI: the Gateway API workload has the kinds egctl reads, one
// listener, HTTPRoute and Service per host.
func TestGatewayAPI(t *testing.T) {
	dir := t.TempDir()
	if err := scalecfg.Write(dir, scalecfg.Options{Hosts: 120, Routes: 2}, true); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, scalecfg.GatewayAPIFile))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	listeners := 0
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var obj struct {
			Kind string `json:"kind"`
			Spec struct {
				Listeners []any `json:"listeners"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
		kinds[obj.Kind]++
		listeners += len(obj.Spec.Listeners)
	}
	want := map[string]int{"GatewayClass": 1, "Secret": 1, "ConfigMap": 1, "Gateway": 3, "ClientTrafficPolicy": 1, "HTTPRoute": 120, "Service": 240}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s, want %d", kinds[k], k, n)
		}
	}
	if listeners != 120 {
		t.Errorf("%d listeners, want 120", listeners)
	}
}

// compileDir loads the workload written in dir and compiles its proxy group.
func compileDir(t *testing.T, dir string) *translate.Resources {
	t.Helper()
	cfg, err := compile.Load(scalecfg.LoadOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cfg.Compile(scalecfg.Selector)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func mustJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
