package irbuild

import (
	"regexp"
	"testing"
)

// TestClusterConflictNamesFirstReference: two references to one cluster
// that resolve it differently (a DestinationRule in each referrer's
// namespace) are an error at the second, naming the first by object, field
// and file:line, which addCluster formats only then.
func TestClusterConflictNamesFirstReference(t *testing.T) {
	_, err := buildYAML(t, "SIMPLE", `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: other, namespace: apps2}
spec:
  hosts: ["other.example.com"]
  gateways: [gw/gw]
  http:
  - route:
    - destination: {host: app.apps.svc.cluster.local, port: {number: 8080}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: app, namespace: apps2}
spec:
  host: app.apps.svc.cluster.local
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 7}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: app, namespace: apps}
spec:
  host: app.apps.svc.cluster.local
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 8}}
`)
	if err == nil {
		t.Fatal("no error for a cluster resolved two ways")
	}
	want := regexp.MustCompile(`VirtualService apps2/other: spec\.http\[0\]\.route\[0\]\.destination: cluster outbound\|8080\|\|app\.apps\.svc\.cluster\.local resolves differently here than for VirtualService apps/app spec\.http\[0\]\.route\[0\]\.destination \(\S+config\.yaml:\d+\)`)
	if !want.MatchString(err.Error()) {
		t.Errorf("error %q\ndoes not match %s", err, want)
	}
}
