package server

import (
	"log/slog"
	"testing"

	"github.com/trustgate/trustgate/labelset"
)

// TestClearForgetsTheGroup: freeing a group (groups.free) must drop it from
// every cache, or the SotW and delta caches would keep each freed group's
// encoded responses and the memory would grow with every label set ever
// seen.
func TestClearForgetsTheGroup(t *testing.T) {
	c := newCaches(cacheLogger(slog.New(slog.DiscardHandler)))
	key := labelset.Key(testGroup)
	snap := testSnapshot(t, "v1", "a")
	if err := c.sotw.set(key, snap); err != nil {
		t.Fatal(err)
	}
	if err := c.delta.set(key, snap); err != nil {
		t.Fatal(err)
	}
	c.clear(key)
	if _, ok := c.sotw.groups[key]; ok {
		t.Error("the SotW cache still holds the freed group")
	}
	if _, ok := c.delta.groups[key]; ok {
		t.Error("the delta cache still holds the freed group")
	}
}
