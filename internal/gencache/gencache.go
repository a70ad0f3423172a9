package gencache

import "sync"

// Cache maps content keys to entries, by generation. The zero value is not
// usable; call New. A nil *Cache is valid for Commit and Abort (no cache).
// It is safe for concurrent use.
//
// Every entry carries the generation that last used it: a lookup that hits
// stamps the entry in place, and Commit drops the entries the ending load
// did not stamp. Two maps, the last good load's and the current one's,
// cost a hit two lookups and an insert into a map growing from empty on
// every load; at 10,000s of entries that was a tenth of a reload.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]*stamped[V]
	gen     uint64 // the current load's generation
	hits    int
	misses  int
}

// stamped is an entry and the generation that last used it.
type stamped[V any] struct {
	v   V
	gen uint64
}

// New returns an empty cache.
func New[K comparable, V any]() *Cache[K, V] {
	return &Cache[K, V]{entries: map[K]*stamped[V]{}}
}

// Get returns the entry under k, if any, and marks it used by this load.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		c.misses++
		var zero V
		return zero, false
	}
	c.hits++
	e.gen = c.gen
	return e.v, true
}

// Keep marks the entries under ks used by this load, as Get would, under
// one lock and without counting lookups: entries that live as long as
// another does (a listener's filter chains) are kept when that one is
// found.
func (c *Cache[K, V]) Keep(ks []K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range ks {
		if e, ok := c.entries[k]; ok {
			e.gen = c.gen
		}
	}
}

// Put keeps v under k in this load's generation.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		e.v, e.gen = v, c.gen
		return
	}
	c.entries[k] = &stamped[V]{v: v, gen: c.gen}
}

// Commit ends a good load: only the entries it used or added are kept.
func (c *Cache[K, V]) Commit() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.gen != c.gen {
			delete(c.entries, k)
		}
	}
	c.gen++
}

// Abort ends a failed load: the entries it used or added join those of the
// last good load, and all are kept until the next Commit.
func (c *Cache[K, V]) Abort() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
}

// Stats are a cache's counts, for tests and benchmarks.
type Stats struct {
	Entries, Hits, Misses int
}

// Stats returns the entries held and the lookups since the cache was made.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.entries), Hits: c.hits, Misses: c.misses}
}

// Each calls f with every entry, in no order, without stamping them (for
// tests that check what a cache holds).
func (c *Cache[K, V]) Each(f func(K, V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		f(k, e.v)
	}
}
