package envoymodeltest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/internal/goldentest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// A violation report is the reviewed record of the security properties
// (package props) that fail on some configurations today: one line per
// violation, "name: violation (n cases)", or "name: every property holds".

// WriteViolations appends one configuration's lines to a report.
func WriteViolations(b *strings.Builder, name string, vs []props.Violation) {
	if len(vs) == 0 {
		fmt.Fprintf(b, "%s: every property holds\n", name)
		return
	}
	for _, v := range vs {
		fmt.Fprintf(b, "%s: %s (%d cases)\n", name, v, v.Count)
	}
}

// CompareReport compares a report with its file, or rewrites the file
// under -update (internal/goldentest's flag).
func CompareReport(t *testing.T, path, got string) {
	t.Helper()
	if *goldentest.Update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil { //nolint:gosec // G306: a committed record, readable like any source file
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
