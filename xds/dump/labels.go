package dump

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/labelset"
)

// UnselectedError says that no Gateway selects a proxy with Labels, which
// would get empty configuration, and names the label sets the
// configuration programs.
type UnselectedError struct {
	Labels    map[string]string
	Selectors []map[string]string
}

func (e *UnselectedError) Error() string {
	what := fmt.Sprintf("labelled %q", labelset.Key(e.Labels))
	if len(e.Labels) == 0 {
		what = "without labels"
	}
	sets := make([]string, len(e.Selectors))
	for i, s := range e.Selectors {
		sets[i] = fmt.Sprintf("%q", labelset.Key(s))
	}
	slices.Sort(sets)
	return fmt.Sprintf("no Gateway selects a proxy %s, so it would get no configuration; the Gateways select %s",
		what, strings.Join(sets, ", "))
}

// CheckSelected returns an *UnselectedError when no selector (a Gateway's
// selector, as ir.Selectors lists them) is contained in nodeLabels, the
// rule by which Gateways pick proxies. A configuration without Gateways
// programs no proxy whatever its labels, which needs no hint.
func CheckSelected(selectors []map[string]string, nodeLabels map[string]string) error {
	if len(selectors) == 0 {
		return nil
	}
	for _, sel := range selectors {
		if labelset.Selects(sel, nodeLabels) {
			return nil
		}
	}
	return &UnselectedError{Labels: nodeLabels, Selectors: selectors}
}
