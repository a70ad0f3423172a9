package envoymodel_test

import (
	"path/filepath"
	"testing"

	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/translate"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// TestNewAcceptsWhatTranslateEmits compiles the model over every golden
// case and over translatetest's RichProxy (every feature the translator
// has): the model implements everything trustgate emits.
func TestNewAcceptsWhatTranslateEmits(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	for _, in := range envoymodeltest.GoldenCases(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			for _, g := range envoymodeltest.CompileGolden(t, p, in) {
				if _, err := envoymodel.New(g.Resources, envoymodel.Options{Now: p.Now}); err != nil {
					t.Errorf("labels %s: %v", g.Labels, err)
				}
			}
		})
	}
	t.Run("RichProxy", func(t *testing.T) {
		res, err := translate.Translate(translatetest.RichProxy())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := envoymodel.New(envoymodeltest.FromTranslate(res), envoymodel.Options{}); err != nil {
			t.Error(err)
		}
	})
}
