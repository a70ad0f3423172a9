package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// edgeGateway serves an HTTPS gateway, with its private key, to the proxies
// labelled {app: edge, x: y}.
const edgeGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {app: edge, x: "y"}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.com]
    tls: {mode: SIMPLE, credentialName: server}
`

// pipelineLoader serves the files of a temporary directory through the real
// pipeline, as `trustgate serve` does.
func pipelineLoader(t testing.TB, yaml string) server.Loader {
	t.Helper()
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "server", Hosts: []string{"app.example.com"}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secrets}}
	return func() (server.Config, error) { return compile.Load(opts, compile.ForServe()) }
}

// TestLabelSetsDoNotAlias connects, over SotW and delta and in both orders,
// the proxy of the Gateway's selector {app: edge, x: y} and a proxy whose
// labels render the same when joined naively, {app: "edge,x=y"}: only the
// first gets the listener and the private key, even when it asks for the
// secret by name.
func TestLabelSetsDoNotAlias(t *testing.T) {
	owner := map[string]string{"app": "edge", "x": "y"}
	lookalike := map[string]string{"app": "edge,x=y"}
	for proto, delta := range protocols {
		for order, lookalikeFirst := range map[string]bool{"owner first": false, "look-alike first": true} {
			t.Run(proto+"/"+order, func(t *testing.T) {
				h := newHarness(t, fixture.Spec{})
				opts := h.options()
				opts.Loader = pipelineLoader(t, edgeGateway)
				h.start(opts)

				connectOwner := func() string {
					e := h.envoy(envoytest.Options{NodeID: "owner", Labels: owner, Delta: delta})
					v, err := e.WaitComplete(timeout)
					if err != nil {
						t.Fatal(err)
					}
					if len(v.Listeners) != 1 || len(v.Secrets) != 1 {
						t.Fatalf("owner: %d listeners, %d secrets; want 1 and 1", len(v.Listeners), len(v.Secrets))
					}
					for name := range v.Secrets {
						return name
					}
					return ""
				}
				connectLookalike := func() {
					e := h.envoy(envoytest.Options{NodeID: "lookalike", Labels: lookalike, Delta: delta})
					v, err := e.WaitComplete(timeout)
					if err != nil {
						t.Fatal(err)
					}
					if len(v.Listeners) != 0 || len(v.Clusters) != 0 || len(v.Secrets) != 0 {
						t.Fatalf("look-alike: %d listeners, %d clusters, %d secrets; want none: they are another group's",
							len(v.Listeners), len(v.Clusters), len(v.Secrets))
					}
				}
				var secret string
				if lookalikeFirst {
					connectLookalike()
					secret = connectOwner()
				} else {
					secret = connectOwner()
					connectLookalike()
				}
				// Asking for the owner's secret by name gets nothing.
				s := openADS(t, h.addr, delta, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err := s.send(node("prober", lookalike), envoytest.SecretType, secret); err != nil {
					t.Fatal(err)
				}
				if proto == "sotw" { // delta sends nothing at all for a name it does not have
					if _, names, err := s.recv(); err != nil || len(names) != 0 {
						t.Fatalf("asking for %s: got %v (%v), want nothing", secret, names, err)
					}
				}
				eventually(t, "the probe counted", func() error {
					if got := h.counter(`trustgate_xds_unknown_resource_requests_total{type="secret"}`); got != 1 {
						return fmt.Errorf("unknown secret requests = %v, want 1", got)
					}
					return nil
				})
				groups := h.reloadStatus().Groups
				if len(groups) != 2 {
					t.Errorf("%d groups, want 2 (the owner's and the look-alike's): %+v", len(groups), groups)
				}
			})
		}
	}
}
