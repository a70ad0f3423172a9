package suggest

import "testing"

func TestDistance(t *testing.T) {
	cases := map[string]struct {
		a, b string
		want int
	}{
		"equal":                 {"gateway", "gateway", 0},
		"one substitution":      {"gateway", "gatewey", 1},
		"one insertion":         {"gateway", "gateways", 1},
		"one deletion":          {"gateway", "gatway", 1},
		"transposition is two":  {"gateway", "gaetway", 2},
		"from empty":            {"", "abc", 3},
		"to empty":              {"abc", "", 3},
		"nothing in common":     {"abc", "xyz", 3},
		"bytes, not characters": {"é", "e", 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Distance(tc.a, tc.b); got != tc.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
			if got := Distance(tc.b, tc.a); got != tc.want {
				t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	cases := map[string]struct {
		name       string
		candidates []string
		limit      int
		want       string
	}{
		"the nearest wins":             {name: "web-cert", candidates: []string{"web-cart", "wab-cart", "other"}, limit: 2, want: "web-cart"},
		"a tie goes to sorted order":   {name: "abc", candidates: []string{"abx", "abd"}, limit: 1, want: "abd"},
		"too far":                      {name: "abc", candidates: []string{"xyz"}, limit: 2, want: ""},
		"at the limit":                 {name: "abcd", candidates: []string{"abxy"}, limit: 2, want: "abxy"},
		"the name itself is no hint":   {name: "abc", candidates: []string{"abc"}, limit: 2, want: ""},
		"length alone rules one out":   {name: "ab", candidates: []string{"abcdef"}, limit: 3, want: ""},
		"no candidates":                {name: "abc", limit: 2, want: ""},
		"candidates are not reordered": {name: "ab", candidates: []string{"b", "a"}, limit: 1, want: "a"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := append([]string(nil), tc.candidates...)
			if got := Closest(tc.name, tc.candidates, tc.limit); got != tc.want {
				t.Errorf("Closest(%q, %q, %d) = %q, want %q", tc.name, tc.candidates, tc.limit, got, tc.want)
			}
			for i := range before {
				if before[i] != tc.candidates[i] {
					t.Errorf("Closest reordered its candidates: %q", tc.candidates)
				}
			}
		})
	}
}
