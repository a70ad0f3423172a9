package startgc

import (
	"runtime/debug"
	"testing"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestInitAndDone: without GOGC in the environment the package's init set
// initGCPercent (the test binary ran it), and Done gives 100 back; with
// GOGC set, Done leaves it alone.
func TestInitAndDone(t *testing.T) {
	if userSet {
		t.Skip("GOGC is set in the test's environment: init left it alone")
	}
	if got := gcPercent(); got != initGCPercent {
		t.Fatalf("after init GOGC = %d, want %d", got, initGCPercent)
	}
	Done()
	if got := gcPercent(); got != defaultGCPercent {
		t.Errorf("after Done GOGC = %d, want %d", got, defaultGCPercent)
	}
	userSet = true
	defer func() { userSet = false }()
	debug.SetGCPercent(250)
	defer debug.SetGCPercent(defaultGCPercent)
	Done()
	if got := gcPercent(); got != 250 {
		t.Errorf("with GOGC set, Done changed it to %d", got)
	}
}
