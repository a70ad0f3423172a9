package explain_test

import (
	"os"
	"testing"

	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
)

// writeExpanded writes a golden input with its ${B64:...} references
// filled in from the PKI.
func writeExpanded(t *testing.T, p *envoymodeltest.PKI, in, out string) {
	t.Helper()
	src, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, p.Expand(t, src, true), 0o644); err != nil {
		t.Fatal(err)
	}
}
