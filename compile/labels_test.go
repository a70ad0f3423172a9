package compile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// aliasGateway serves an HTTPS gateway, with its private key, to the proxies
// labelled {app: edge, x: y} only.
const aliasGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {app: edge, x: "y"}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [app.example.com]
    tls: {mode: SIMPLE, credentialName: server}
`

// TestCompileLabelSetsDoNotAlias compiles for label sets whose naive
// "k=v,k=v" renderings equal that of the Gateway's selector: none of them
// is selected, so none gets its listener or its private key, whatever was
// compiled before.
func TestCompileLabelSetsDoNotAlias(t *testing.T) {
	dir := t.TempDir()
	secrets := serverPKI(t, dir, "app.example.com")
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte(aliasGateway), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secrets}}, compile.WithExpiryWarning(0))
	if err != nil {
		t.Fatal(err)
	}
	selected, err := cfg.Compile(map[string]string{"app": "edge", "x": "y"})
	if err != nil {
		t.Fatal(err)
	}
	if len(selected.Listeners) != 1 || len(selected.Secrets) != 1 {
		t.Fatalf("the selected group got %d listeners and %d secrets, want 1 and 1", len(selected.Listeners), len(selected.Secrets))
	}
	others := map[string]map[string]string{
		"comma and equals in a value": {"app": "edge,x=y"},
		"equals in a key":             {"app=edge,x": "y"},
		"quoted value":                {"app": `"edge",x="y"`},
		"empty value":                 {"app": "edge", "x": ""},
		"empty key":                   {"": "edge,x=y"},
	}
	for name, l := range others {
		t.Run(name, func(t *testing.T) {
			for round := range 2 { // the second time from the cache, if any
				res, err := cfg.Compile(l)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Listeners) != 0 || len(res.Secrets) != 0 {
					t.Fatalf("round %d: labels %q got %d listeners and %d secrets: another group's configuration",
						round, l, len(res.Listeners), len(res.Secrets))
				}
			}
		})
	}
}
