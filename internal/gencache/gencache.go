package gencache

import "sync"

// Cache maps content keys to entries, by generation. The zero value is not
// usable; call New. A nil *Cache is valid for Commit and Abort (no cache).
// It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu        sync.Mutex
	cur, prev map[K]V
	hits      int
	misses    int
}

// New returns an empty cache.
func New[K comparable, V any]() *Cache[K, V] {
	return &Cache[K, V]{cur: map[K]V{}, prev: map[K]V{}}
}

// Get returns the entry under k, if any, and marks it used by this load.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.cur[k]
	if !ok {
		if v, ok = c.prev[k]; ok {
			c.cur[k] = v
		}
	}
	if ok {
		c.hits++
	} else {
		c.misses++
	}
	return v, ok
}

// Keep marks the entries under ks used by this load, as Get would, under
// one lock: entries that live as long as another does (a listener's filter
// chains) are kept when that one is found.
func (c *Cache[K, V]) Keep(ks []K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range ks {
		if _, ok := c.cur[k]; ok {
			continue
		}
		if v, ok := c.prev[k]; ok {
			c.cur[k] = v
		}
	}
}

// Put keeps v under k in this load's generation.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur[k] = v
}

// Commit ends a good load: only the entries it used or added are kept.
func (c *Cache[K, V]) Commit() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The next load mostly uses what this one did: a map made at that size
	// is not grown (and rehashed) entry by entry up to 10,000s of entries
	// on every reload.
	c.prev, c.cur = c.cur, make(map[K]V, len(c.cur))
}

// Abort ends a failed load: the entries it used or added join those of the
// last good load, and all are kept until the next Commit.
func (c *Cache[K, V]) Abort() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.cur {
		c.prev[k] = v
	}
	c.cur = make(map[K]V, len(c.prev)) // as Commit's
}

// Stats are a cache's counts, for tests and benchmarks.
type Stats struct {
	Entries, Hits, Misses int
}

// Stats returns the entries held (both generations, each once) and the
// lookups since the cache was made.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.cur)
	for k := range c.prev {
		if _, ok := c.cur[k]; !ok {
			n++
		}
	}
	return Stats{Entries: n, Hits: c.hits, Misses: c.misses}
}
