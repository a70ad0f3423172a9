package irbuild

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestSortFuncAsSortSlice: the builders moved from sort.Slice to
// slices.SortFunc; output is unchanged only if both order equal keys alike
// (see byVHostName). Elements with many equal keys, told apart by a tag.
func TestSortFuncAsSortSlice(t *testing.T) {
	type elem struct{ key, tag string }
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 5, 12, 13, 50, 200, 3000} {
		for range 5 {
			in := make([]elem, n)
			for i := range in {
				in[i] = elem{key: string(rune('a' + r.IntN(4))), tag: string(rune(i))}
			}
			a, b := slices.Clone(in), slices.Clone(in)
			sort.Slice(a, func(i, j int) bool { return a[i].key < a[j].key })
			slices.SortFunc(b, func(x, y elem) int { return strings.Compare(x.key, y.key) })
			if !slices.Equal(a, b) {
				t.Fatalf("n=%d: sort.Slice and slices.SortFunc order equal keys differently", n)
			}
		}
	}
}
