package main

import (
	"io"
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

// unsetGOGC removes GOGC from the environment for the test.
func unsetGOGC(t *testing.T) {
	t.Helper()
	old, had := os.LookupEnv("GOGC")
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if had {
			_ = os.Setenv("GOGC", old) // restoring the test's environment
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
	t.Run("400 while the live heap is small, 200 once it is large", func(t *testing.T) {
		unsetGOGC(t)
		debug.SetGCPercent(100)
		tuneGCForOneShot()
		if got := gcPercent(); got != oneShotGCPercent {
			t.Fatalf("GOGC = %d, want %d", got, oneShotGCPercent)
		}
		runtime.GC() // a collection with a small live heap keeps 400
		time.Sleep(50 * time.Millisecond)
		if got := gcPercent(); got != oneShotGCPercent {
			t.Fatalf("after a small collection GOGC = %d, want %d", got, oneShotGCPercent)
		}
		live := make([]byte, 2*oneShotLiveHeap)
		for i := range live {
			live[i] = 1 // touched, so that it counts as it would in a real heap
		}
		deadline := time.Now().Add(5 * time.Second)
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
