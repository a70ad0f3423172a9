package suggest

import "slices"

// Closest returns the candidate nearest to name by edit distance, if it is
// at most limit edits away and is not name itself; a tie goes to the first
// in sorted order. It returns "" when no candidate is that close.
func Closest(name string, candidates []string, limit int) string {
	best, bestD := "", limit+1
	for _, cand := range slices.Sorted(slices.Values(candidates)) {
		// The distance is at least the difference in length.
		if cand == name || abs(len(cand)-len(name)) > limit {
			continue
		}
		if d := Distance(name, cand); d < bestD {
			best, bestD = cand, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, by bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
