package props_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// TestGoldenCaseReport runs every property on every golden case (every
// proxy group) and compares the violations with
// testdata/golden-cases.violations, the reviewed record of what today's
// output fails. When the fixes of the security issue land, regenerate it
// with -update: it should shrink to nothing.
func TestGoldenCaseReport(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	var b strings.Builder
	for _, in := range envoymodeltest.GoldenCases(t) {
		cfg, groups := envoymodeltest.LoadGolden(t, p, in)
		for _, g := range groups {
			vs, err := props.Check(cfg, g.LabelMap, g.Resources, pkiClients(p), p.Now)
			if err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			envoymodeltest.WriteViolations(&b, filepath.Base(in)+" ["+g.Labels+"]", vs)
		}
	}
	envoymodeltest.CompareReport(t, filepath.Join("testdata", "golden-cases.violations"), b.String())
}
