package envoymodel_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOnlyEnvoyTypes keeps the model independent of what it judges:
// it must not see trustgate's model, IR, translator or pipeline.
func TestImportsOnlyEnvoyTypes(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/trustgate/trustgate/xds/envoymodel").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/trustgate/trustgate/") && dep != "github.com/trustgate/trustgate/xds/envoymodel" {
			t.Errorf("envoymodel depends on %s", dep)
		}
	}
}
