package gencache_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/internal/gencache"
)

// TestGenerations: a good load keeps only what it used; a failed load keeps
// the last good load's entries too; lookups count.
func TestGenerations(t *testing.T) {
	c := gencache.New[string, int]()
	c.Put("a", 1)
	c.Put("b", 2)
	c.Commit() // load 1: a, b

	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v after the load that added it", v, ok)
	}
	c.Put("c", 3)
	c.Abort() // load 2 failed: it used a and added c; b stays from load 1
	for k, want := range map[string]int{"a": 1, "b": 2, "c": 3} {
		if v, ok := c.Get(k); !ok || v != want {
			t.Errorf("after a failed load, Get(%s) = %d, %v; want %d", k, v, ok, want)
		}
	}
	c.Commit() // load 3 used a, b, c

	if _, ok := c.Get("b"); !ok {
		t.Fatal("b used by the last good load was dropped")
	}
	c.Commit() // load 4 used b only
	if _, ok := c.Get("a"); ok {
		t.Error("a, unused by the last good load, is still kept")
	}
	want := gencache.Stats{Entries: 1, Hits: 5, Misses: 1}
	if d := cmp.Diff(want, c.Stats()); d != "" {
		t.Errorf("Stats (-want +got):\n%s", d)
	}
}

// TestKeep: Keep marks entries used without counting lookups; a key it
// does not hold stays absent.
func TestKeep(t *testing.T) {
	c := gencache.New[string, int]()
	c.Put("a", 1)
	c.Put("b", 2)
	c.Commit()
	c.Keep([]string{"a", "z"})
	c.Commit() // used a only
	if _, ok := c.Get("b"); ok {
		t.Error("b, not kept, survived the commit")
	}
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Errorf("Get(a) = %d, %v after Keep", v, ok)
	}
	if _, ok := c.Get("z"); ok {
		t.Error("Keep made an entry for a key it did not hold")
	}
	want := gencache.Stats{Entries: 1, Hits: 1, Misses: 2}
	if d := cmp.Diff(want, c.Stats()); d != "" {
		t.Errorf("Stats (-want +got):\n%s", d)
	}
}

// TestNilCommitAbort: a nil cache (no cache) can be committed and aborted.
func TestNilCommitAbort(t *testing.T) {
	var c *gencache.Cache[string, int]
	c.Commit()
	c.Abort()
}
