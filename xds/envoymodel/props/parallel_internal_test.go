package props

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestEachMergesAsTheLoop: each, on four cores, leaves the checker as the
// loop on one core does, when the units record violations that repeat
// within and across units (first example kept, counts summed, order of
// first appearance), count probes and mark servers verified.
func TestEachMergesAsTheLoop(t *testing.T) {
	servers := []*Server{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	rng := rand.New(rand.NewPCG(13, 14))
	for round := range 100 {
		n := 1 + rng.IntN(12)
		type rec struct {
			key, example string
			verified     *Server
		}
		units := make([][]rec, n)
		for i := range units {
			for range rng.IntN(6) {
				units[i] = append(units[i], rec{
					key:      fmt.Sprintf("k%d", rng.IntN(5)),
					example:  fmt.Sprintf("unit %d, record %d", i, len(units[i])),
					verified: servers[rng.IntN(len(servers))],
				})
			}
		}
		work := func(c *checker, i int) {
			for _, r := range units[i] {
				c.probes++
				c.verified[r.verified] = true
				c.record(r.key, Violation{Property: "P", Connection: r.example})
			}
		}
		run := func(procs int) *checker {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			c := &checker{seen: map[string]*Violation{}, verified: map[*Server]bool{}}
			c.each(n, work)
			return c
		}
		one, four := run(1), run(4)
		view := func(c *checker) []string {
			out := []string{fmt.Sprintf("probes %d, verified %d", c.probes, len(c.verified))}
			for _, k := range c.order {
				out = append(out, fmt.Sprintf("%s: %s (%d)", k, c.seen[k].Connection, c.seen[k].Count))
			}
			return out
		}
		if diff := cmp.Diff(view(one), view(four)); diff != "" {
			t.Fatalf("round %d: four cores differ from the loop (-loop +four):\n%s", round, diff)
		}
	}
}
