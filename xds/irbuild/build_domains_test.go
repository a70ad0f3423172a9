package irbuild

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDomainIndexOverlapping(t *testing.T) {
	x := newDomainIndex[string]()
	for _, d := range []string{"*", "*.example.com", "admin.example.com", "*.admin.example.com", "x.admin.example.com", "other.org"} {
		x.add(d, d)
	}
	cases := map[string][]string{
		"admin.example.com":   {"*", "*.example.com", "admin.example.com"},
		"x.admin.example.com": {"*", "*.admin.example.com", "*.example.com", "x.admin.example.com"},
		"*.admin.example.com": {"*", "*.admin.example.com", "*.example.com", "x.admin.example.com"},
		"*.example.com":       {"*", "*.admin.example.com", "*.example.com", "admin.example.com", "x.admin.example.com"},
		"*":                   {"*", "*.admin.example.com", "*.example.com", "admin.example.com", "other.org", "x.admin.example.com"},
		"www.other.org":       {"*"},
	}
	for q, want := range cases {
		var got []string
		x.overlapping(q, func(d, v string) { got = append(got, v) })
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("overlapping(%q) (-want +got):\n%s", q, diff)
		}
	}
}
