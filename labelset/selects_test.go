package labelset_test

import (
	"testing"

	"github.com/trustgate/trustgate/labelset"
)

func TestSelects(t *testing.T) {
	labels := map[string]string{"app": "gw", "zone": "a"}
	tests := map[string]struct {
		selector map[string]string
		want     bool
	}{
		"empty selects all":  {nil, true},
		"subset":             {map[string]string{"app": "gw"}, true},
		"all":                {map[string]string{"app": "gw", "zone": "a"}, true},
		"other value":        {map[string]string{"app": "other"}, false},
		"label not set":      {map[string]string{"tier": "edge"}, false},
		"empty value absent": {map[string]string{"tier": ""}, false},
	}
	for name, tc := range tests {
		if got := labelset.Selects(tc.selector, labels); got != tc.want {
			t.Errorf("%s: Selects(%v) = %v, want %v", name, tc.selector, got, tc.want)
		}
	}
}
