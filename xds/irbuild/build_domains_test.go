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
// domain with hostCovers, in the same order, on random sets of domains.
func TestDomainIndexAgreesWithScan(t *testing.T) {
	pool := []string{"*", "*.example.com", "example.com", "a.example.com", "*.a.example.com", "x.a.example.com",
		"*.com", "other.org", "*.other.org", "*x.example.com", "a.", "*."}
	rng := rand.New(rand.NewPCG(15, 16))
	for round := range 300 {
		x := newDomainIndex[int]()
		for i := range rng.IntN(10) {
			x.add(pool[rng.IntN(len(pool))], i)
		}
		keys := slices.Sorted(maps.Keys(x.byDomain))
		for _, d := range pool {
			// overlapping as it was: d, the wildcards above it, "*", then
			// every stored domain under a wildcard d, in name order.
			var want []string
			seen := map[string]bool{}
			at := func(k string) {
				if !seen[k] {
					seen[k] = true
					for _, v := range x.byDomain[k] {
						want = append(want, fmt.Sprint(k, v))
					}
				}
			}
			at(d)
			if d != "*" {
				rest := strings.TrimPrefix(d, "*.")
				for i := strings.IndexByte(rest, '.'); i >= 0; i = strings.IndexByte(rest, '.') {
					rest = rest[i+1:]
					at("*." + rest)
				}
				at("*")
			}
			var wantCovered []string
			for _, k := range keys {
				if strings.HasPrefix(d, "*") && hostCovers(d, k) {
					at(k)
				}
				if hostCovers(d, k) {
					for _, v := range x.byDomain[k] {
						wantCovered = append(wantCovered, fmt.Sprint(k, v))
					}
				}
			}
			var got, gotCovered []string
			x.overlapping(d, func(k string, v int) { got = append(got, fmt.Sprint(k, v)) })
			x.covered(d, func(k string, v int) { gotCovered = append(gotCovered, fmt.Sprint(k, v)) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("round %d: overlapping(%q) (-scan +index):\n%s", round, d, diff)
			}
			if diff := cmp.Diff(wantCovered, gotCovered); diff != "" {
				t.Fatalf("round %d: covered(%q) (-scan +index):\n%s", round, d, diff)
			}
		}
	}
}
