package props

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// scanOwner is owners.of as a scan of every server's hosts: the oracle.
func scanOwner(servers []*Server, name string) *Server {
	name = strings.ToLower(name)
	var best *Server
	bestLen := -1
	for _, s := range servers {
		for _, h := range s.Hosts {
			n := -1
			switch {
			case h == name:
				n = 1 << 20
			case h == "*":
				n = 0
			case strings.HasPrefix(h, "*.") && strings.HasSuffix(name, h[1:]) && len(name) > len(h)-1:
				n = len(h)
			}
			if n > bestLen {
				best, bestLen = s, n
			}
		}
	}
	return best
}

// sortNearest is near.nearest as a sort of every name: the oracle.
func sortNearest(names []string, sni string, own, k int) []string {
	type cand struct {
		name         string
		shared, dist int
	}
	var cs []cand
	for i, n := range names {
		if n == sni {
			continue
		}
		dist := (i - own + len(names)) % len(names)
		cs = append(cs, cand{n, sharedLabels(n, sni), dist})
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].shared != cs[j].shared {
			return cs[i].shared > cs[j].shared
		}
		return cs[i].dist < cs[j].dist
	})
	var out []string
	for i := 0; i < len(cs) && i < k; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// sharedLabels counts the trailing DNS labels two names share.
func sharedLabels(a, b string) int {
	x, y := strings.Split(a, "."), strings.Split(b, ".")
	n := 0
	for n < len(x) && n < len(y) && x[len(x)-1-n] == y[len(y)-1-n] {
		n++
	}
	return n
}

// TestIndexesAgreeWithScans checks owners.of and near.nearest against a
// scan of every server and a sort of every name, on random ports whose
// hosts collide in every way the rules tell apart: exact, wildcards of
// several lengths, "*", upper case, empty labels and trailing dots.
func TestIndexesAgreeWithScans(t *testing.T) {
	pool := []string{"a.example.com", "b.example.com", "x.a.example.com", "*.example.com", "*.a.example.com",
		"*", "A.example.com", "*.com", "c.other.org", "*.other.org", "example.com", "a.", "", ".", "a..b", "*.", "b",
		"y.x.a.example.com", "w1.example.com"}
	rng := rand.New(rand.NewPCG(9, 10))
	for round := range 300 {
		var servers []*Server
		for range 1 + rng.IntN(8) {
			s := &Server{}
			for range 1 + rng.IntN(3) {
				s.Hosts = append(s.Hosts, pool[rng.IntN(len(pool))])
			}
			servers = append(servers, s)
		}
		ow := newOwners(servers)
		for _, name := range append(pool, "Q.A.EXAMPLE.COM", "z.y.x.a.example.com", "unknown.invalid") {
			if got, want := ow.of(name), scanOwner(servers, name); got != want {
				t.Fatalf("round %d: owner of %q: %p, the scan gives %p", round, name, got, want)
			}
		}
		var names []string
		for range rng.IntN(12) {
			names = append(names, pool[rng.IntN(len(pool))])
		}
		names = dedupe(names)
		nr := newNear(names)
		for _, sni := range append(pool, "unknown.invalid", "q.c.other.org") {
			own := slices.Index(names, sni)
			for k := range 5 {
				if got, want := nr.nearest(sni, own, k), sortNearest(names, sni, own, k); !slices.Equal(got, want) {
					t.Fatalf("round %d: nearest(%q, %q, own %d, k %d) = %q, the sort gives %q", round, names, sni, own, k, got, want)
				}
			}
		}
	}
}
