package compile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/goldentest"
	"github.com/trustgate/trustgate/model"
)

// FuzzLoadTranslate runs the whole pipeline (load, validate, build, diagnose,
// translate and the reference checks) on arbitrary YAML, against a real
// secrets directory: no input may panic or hang, whatever it is rejected
// with. The seeds are the golden cases with their certificates filled in, so
// plain `go test` translates each of them once more here.
func FuzzLoadTranslate(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var pki *goldentest.PKI
	f.Add([]byte("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {servers: []}\n"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b) // expanded below, once the PKI exists
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if pki == nil {
			pki = goldenPKI(t)
		}
		path := filepath.Join(t.TempDir(), "in.yaml")
		if err := os.WriteFile(path, pki.Expand(t, src, false), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{pki.Dir}})
		if err != nil {
			return // rejected with a message: fine
		}
		for _, labels := range cfg.Selectors() {
			if _, err := cfg.Compile(labels); err != nil {
				t.Fatalf("Load accepted the configuration but Compile(%v) failed: %v", labels, err)
			}
		}
	})
}
