package compile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// TestSelectorsOfABrokenConfiguration: Selectors reads the Gateways'
// selectors even when the configuration does not load (here: a secret
// that is nowhere), as a shell completion needs while it is being written.
func TestSelectorsOfABrokenConfiguration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.yaml")
	yaml := `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: a, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: missing}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: b, namespace: edge}
spec:
  selector: {app: edge, zone: a}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [b.example.com]
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := model.LoadOptions{Paths: []string{path}}
	if _, err := compile.Load(opts); err == nil {
		t.Fatal("the configuration loads; the test needs one that does not")
	}
	want := []map[string]string{{"app": "edge", "zone": "a"}, {"istio": "ingressgateway"}}
	if diff := cmp.Diff(want, compile.Selectors(opts)); diff != "" {
		t.Errorf("selectors (-want +got):\n%s", diff)
	}
	if got := compile.Selectors(model.LoadOptions{Paths: []string{filepath.Join(t.TempDir(), "none.yaml")}}); len(got) != 0 {
		t.Errorf("selectors of a missing file: %v", got)
	}
}
