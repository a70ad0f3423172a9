package cputime_test

import (
	"testing"
	"time"

	"github.com/trustgate/trustgate/internal/cputime"
)

// TestSelfCountsWork: CPU spent between two readings shows in the second,
// at better than /proc's 10 ms ticks.
func TestSelfCountsWork(t *testing.T) {
	before := cputime.Self()
	x, deadline := uint64(1), time.Now().Add(10*time.Second)
	for cputime.Self()-before < 2*time.Millisecond && time.Now().Before(deadline) {
		for i := range 1 << 12 {
			x = x*6364136223846793005 + uint64(i)
		}
	}
	if spent := cputime.Self() - before; spent < 2*time.Millisecond {
		t.Errorf("Self grew by %v in 10 s of a busy loop, want at least 2ms", spent)
	}
	if x == 0 {
		t.Log(x) // keeps the loop's work
	}
}
