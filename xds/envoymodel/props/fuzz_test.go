package props_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/pipeline"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// FuzzPipelineModel runs the whole pipeline on arbitrary YAML (seeded with
// the golden cases, as pipeline's FuzzLoadTranslate is) and, for every
// configuration it accepts, demands that the model of Envoy implements all
// of the output and that the properties can be checked. Violations are
// logged (-v): today's output has known ones (testdata/*.violations).
func FuzzPipelineModel(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(envoymodeltest.Root(), "pipeline", "testdata", "*.in.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p := envoymodeltest.NewPKI(t)
		path := filepath.Join(t.TempDir(), "in.yaml")
		if err := os.WriteFile(path, p.Expand(t, src, false), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := pipeline.Load(model.LoadOptions{Paths: []string{path}, SecretsDir: p.Dir}, pipeline.WithExpiryWarning(0))
		if err != nil {
			return
		}
		for _, labels := range cfg.Selectors() {
			res, err := cfg.Compile(labels)
			if err != nil {
				return
			}
			if _, err := envoymodel.New(envoymodeltest.FromTranslate(res), envoymodel.Options{Now: p.Now}); err != nil {
				t.Fatalf("the model refuses what the pipeline emits: %v", err)
			}
			vs, err := props.Check(cfg.Model(), labels, envoymodeltest.FromTranslate(res), pkiClients(p), p.Now)
			if err != nil {
				t.Fatalf("props.Check: %v", err)
			}
			for _, v := range vs {
				t.Log(v)
			}
		}
	})
}
