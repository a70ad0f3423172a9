package props_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/internal/goldentest"
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
			writeReport(&b, filepath.Base(in)+" ["+g.Labels+"]", vs)
		}
	}
	compareReport(t, filepath.Join("testdata", "golden-cases.violations"), b.String())
}

// writeReport appends a case's violations, one per line.
func writeReport(b *strings.Builder, name string, vs []props.Violation) {
	if len(vs) == 0 {
		fmt.Fprintf(b, "%s: every property holds\n", name)
		return
	}
	for _, v := range vs {
		fmt.Fprintf(b, "%s: %s (%d cases)\n", name, v, v.Count)
	}
}

// compareReport compares a report with its file, or rewrites it.
func compareReport(t *testing.T, path, got string) {
	t.Helper()
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (review, then -update):\n%s", path, goldentest.LineDiff(string(want), got))
	}
}
