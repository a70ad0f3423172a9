package irbuild

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/model"
)

// TestParallelBuildEqualsSerial: the servers of a port built on several
// forks (build_parallel.go) give what building them one after the other
// gives, errors, warnings and first references of conflicts included. The
// golden cases are compared the same way (TestBuildGolden).
func TestParallelBuildEqualsSerial(t *testing.T) {
	dir := t.TempDir()
	if err := scalecfg.Write(dir, scalecfg.Options{Hosts: 120, Policies: true}, false); err != nil {
		t.Fatal(err)
	}
	scale, err := model.Load(scalecfg.LoadOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		cfg     *model.Config
		node    Node
		wantErr bool
	}{
		"a cluster resolved two ways from servers of different forks": {cfg: loadYAML(t, conflictAcrossServers(6)), node: ingress, wantErr: true},
		"each host's policies, 120 hosts":                             {cfg: scale, node: Node{Labels: scalecfg.Selector}},
	} {
		t.Run(name, func(t *testing.T) {
			serial, serialFindings, serialErr := buildWithWorkers(c.cfg, c.node, 1, nil)
			if (serialErr != nil) != c.wantErr {
				t.Fatalf("serial build: error %v, want an error: %v", serialErr, c.wantErr)
			}
			if c.wantErr {
				if n := strings.Count(serialErr.Error(), "resolves differently here than for VirtualService a/vs0 "); n != 3 {
					t.Fatalf("serial build: %d conflicts naming a/vs0, want 3 (b/vs1, b/vs3, b/vs5):\n%v", n, serialErr)
				}
			}
			for _, w := range []int{2, 3, 4, 7} {
				p, findings, err := buildWithWorkers(c.cfg, c.node, w, nil)
				if diff := cmp.Diff(serial, p); diff != "" {
					t.Errorf("%d workers: IR differs (-serial +parallel):\n%s", w, diff)
				}
				if got, want := fmt.Sprint(findings), fmt.Sprint(serialFindings); got != want {
					t.Errorf("%d workers: findings\n%s\nwant\n%s", w, got, want)
				}
				if got, want := fmt.Sprint(err), fmt.Sprint(serialErr); got != want {
					t.Errorf("%d workers: error\n%s\nwant\n%s", w, got, want)
				}
			}
		})
	}
}

// conflictAcrossServers is a Gateway of n servers, each with its own
// VirtualService, alternately in namespaces a and b, all routing to one
// service that a DestinationRule in each namespace resolves differently:
// every reference from b conflicts with the first, from a.
func conflictAcrossServers(n int) string {
	var sb strings.Builder
	sb.WriteString(gatewayHeader)
	for i := range n {
		fmt.Fprintf(&sb, `  - name: s%d
    port: {number: 443, name: https-%d, protocol: HTTPS}
    hosts: ["s%d.example.com"]
    tls: {mode: SIMPLE, credentialName: cred}
`, i, i, i)
	}
	for i := range n {
		fmt.Fprintf(&sb, `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs%d, namespace: %s}
spec:
  hosts: ["s%d.example.com"]
  gateways: [gw/gw]
  http:
  - route:
    - destination: {host: app.apps.svc.cluster.local, port: {number: 8080}}
`, i, []string{"a", "b"}[i%2], i)
	}
	for i, ns := range []string{"a", "b"} {
		fmt.Fprintf(&sb, `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: app, namespace: %s}
spec:
  host: app.apps.svc.cluster.local
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: %d}}
`, ns, 7+i)
	}
	return sb.String()
}
