package server

import (
	"testing"
	"weak"
)

// TestQuickSumIsNotTrusted: a set found by its quick sum is taken only when
// it holds every name asked for. A collision of the order-free sum (forged
// here by filing a set under another list's sum) must not hand a stream a
// set of names it did not ask for.
func TestQuickSumIsNotTrusted(t *testing.T) {
	var in interner
	ab := in.of([]string{"a", "b"})
	asked := []string{"a", "c"}
	in.mu.Lock()
	in.quick[quickSumOf(asked)] = weak.Make(ab)
	in.mu.Unlock()
	got := in.of(asked)
	if got == ab || !got.has("c") || got.has("b") {
		t.Fatalf("of(%v) = %v, the set filed under its quick sum", asked, got.names)
	}
	sub := &sotwSub{names: ab, held: emptyNames}
	ab.quick = quickSumOf(asked) // as if the two lists' sums collided
	sub.subscribe(asked, &in, nil)
	if sub.names == ab || !sub.names.has("c") {
		t.Fatalf("subscribe(%v) kept %v", asked, sub.names.names)
	}
}
