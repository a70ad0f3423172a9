package irbuild

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
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

// TestDomainIndexAgreesWithScan checks overlapping and covered, which find
// the domains a wildcard covers in the index, against testing every stored
// domain with hostCovers, on random sets of domains: overlapping visits
// each stored domain that covers d or, d being a wildcard, that d covers;
// covered those d covers, in name order.
func TestDomainIndexAgreesWithScan(t *testing.T) {
	pool := []string{"*", "*.example.com", "example.com", "a.example.com", "*.a.example.com", "x.a.example.com",
		"*.com", "other.org", "*.other.org", "*x.example.com", "a.", "*."}
	rng := rand.New(rand.NewPCG(15, 16))
	for round := range 300 {
		x := newDomainIndex[int]()
		for i := range rng.IntN(10) {
			x.add(pool[rng.IntN(len(pool))], i)
		}
		for _, d := range pool {
			var want, wantCovered []string
			for _, k := range slices.Sorted(maps.Keys(x.byDomain)) {
				for _, v := range x.byDomain[k] {
					if hostCovers(k, d) || (strings.HasPrefix(d, "*") && hostCovers(d, k)) {
						want = append(want, fmt.Sprint(k, v))
					}
					if hostCovers(d, k) {
						wantCovered = append(wantCovered, fmt.Sprint(k, v))
					}
				}
			}
			var got, gotCovered []string
			x.overlapping(d, func(k string, v int) { got = append(got, fmt.Sprint(k, v)) })
			x.covered(d, func(k string, v int) { gotCovered = append(gotCovered, fmt.Sprint(k, v)) })
			slices.Sort(got)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("round %d: overlapping(%q) (-scan +index):\n%s", round, d, diff)
			}
			if diff := cmp.Diff(wantCovered, gotCovered); diff != "" {
				t.Fatalf("round %d: covered(%q) (-scan +index):\n%s", round, d, diff)
			}
		}
	}
}
