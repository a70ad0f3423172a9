package main

import (
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcPercent reads the current GOGC (SetGCPercent returns the old value).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// memoryLimit reads the current memory limit (a negative input reads it).
func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// unsetGOGC removes GOGC and GOMEMLIMIT from the environment for the test.
func unsetGOGC(t *testing.T) {
	t.Helper()
	unsetEnv(t, "GOGC")
	unsetEnv(t, "GOMEMLIMIT")
}

func unsetEnv(t *testing.T, name string) {
	t.Helper()
	old, had := os.LookupEnv(name)
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if had {
			_ = os.Setenv(name, old) // restoring the test's environment
		}
	})
}

func TestTuneGCForOneShot(t *testing.T) {
	before := gcPercent()
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Run("GOGC set by the user wins", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		debug.SetGCPercent(150)
		tuneGCForOneShot()
		if got := gcPercent(); got != 150 {
			t.Errorf("GOGC = %d, want the user's 150", got)
		}
	})
	t.Run("GOMEMLIMIT set by the user: no limit of ours", func(t *testing.T) {
		unsetGOGC(t)
		t.Setenv("GOMEMLIMIT", "1GiB")
		debug.SetGCPercent(100)
		lim := memoryLimit()
		tuneGCForOneShot()
		if got := gcPercent(); got != oneShotGCPercent {
			t.Errorf("GOGC = %d, want %d", got, oneShotGCPercent)
		}
		if got := memoryLimit(); got != lim {
			t.Errorf("memory limit %d, want it left at %d", got, lim)
		}
	})
	t.Run("held back to a memory limit, then 400 while the live heap is small, 200 once it is large", func(t *testing.T) {
		unsetGOGC(t)
		debug.SetGCPercent(100)
		t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
		tuneGCForOneShot()
		if got, lim := gcPercent(), memoryLimit(); got != -1 || lim != oneShotFirstGC {
			t.Fatalf("GOGC = %d, memory limit %d; want off and %d", got, lim, oneShotFirstGC)
		}
		runtime.GC() // the first collection, with a small live heap: 400 and no limit
		deadline := time.Now().Add(5 * time.Second)
		for gcPercent() == -1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got, lim := gcPercent(), memoryLimit(); got != oneShotGCPercent || lim != math.MaxInt64 {
			t.Fatalf("after a small collection GOGC = %d, memory limit %d; want %d and none", got, lim, oneShotGCPercent)
		}
		runtime.GC() // a later small collection keeps 400
		time.Sleep(50 * time.Millisecond)
		if got := gcPercent(); got != oneShotGCPercent {
			t.Fatalf("after a second small collection GOGC = %d, want %d", got, oneShotGCPercent)
		}
		live := make([]byte, 2*oneShotLiveHeap)
		for i := range live {
			live[i] = 1 // touched, so that it counts as it would in a real heap
		}
		deadline = time.Now().Add(5 * time.Second)
		for gcPercent() != largeGCPercent && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
		runtime.KeepAlive(live)
		if got := gcPercent(); got != largeGCPercent {
			t.Errorf("with %d MiB live GOGC = %d, want %d", len(live)>>20, got, largeGCPercent)
		}
	})
}

// TestRestoreGCButForOneShot: every command but translate gets Go's
// default GOGC back before it runs; translate keeps startgc's until it sets
// its own.
func TestRestoreGCButForOneShot(t *testing.T) {
	unsetGOGC(t)
	before := gcPercent()
	t.Cleanup(func() { debug.SetGCPercent(before) })
	root := newRoot(io.Discard, io.Discard)
	for _, c := range root.Commands() {
		debug.SetGCPercent(400) // startgc's, while packages initialise
		restoreGC(c, nil)
		want := 100
		if c.Name() == "translate" {
			want = 400
		}
		if got := gcPercent(); got != want {
			t.Errorf("%s: GOGC = %d, want %d", c.Name(), got, want)
		}
	}
}
