package model

import (
	"crypto/sha256"
	"sync"
)

// Cache keeps decoded documents across loads, each under the SHA-256 of its
// text: a document whose text is unchanged is neither parsed nor decoded
// again, wherever it now sits. Positions are kept relative to the document
// and rebased on reuse, so errors still name the right file:line after the
// document moved (lines inserted above it, or a move to another file). The
// caller holds it across loads (LoadWith); the Config a load returns is the
// same with it as without it.
//
// Decoded objects are shared between the loads that reuse them: no stage
// after Load modifies a loaded object (ResolveShortNames copies), which is
// what makes sharing them safe. ConfigMaps, which readMesh annotates, are
// not kept.
//
// Entries are kept by generation, as translate.Cache's: Commit after a good
// load keeps only what it used; Abort after a failed one keeps both. It is
// safe for concurrent use.
type Cache struct {
	mu        sync.Mutex
	cur, prev map[[sha256.Size]byte]*docEntry
	hits      int
	misses    int
}

// docEntry is one document decoded: its object and the decoder's findings,
// with lines as they were when decoded at line offset base of its file.
type docEntry struct {
	obj   object
	line  int // the object's own line
	lines map[string]int
	empty map[string]bool
	errs  []decodeErr
	nodes int
	base  int
	file  string
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{cur: map[[sha256.Size]byte]*docEntry{}, prev: map[[sha256.Size]byte]*docEntry{}}
}

func (c *Cache) get(k [sha256.Size]byte) *docEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.cur[k]
	if e == nil {
		if e = c.prev[k]; e != nil {
			c.cur[k] = e
		}
	}
	if e != nil {
		c.hits++
	} else {
		c.misses++
	}
	return e
}

func (c *Cache) put(k [sha256.Size]byte, e *docEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur[k] = e
}

// Commit ends a good load: only the documents it used are kept.
func (c *Cache) Commit() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prev, c.cur = c.cur, map[[sha256.Size]byte]*docEntry{}
}

// Abort ends a failed load: the documents it used join those of the last
// good load until the next Commit.
func (c *Cache) Abort() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.cur {
		c.prev[k] = e
	}
	c.cur = map[[sha256.Size]byte]*docEntry{}
}

// CacheStats are a cache's counts, for tests and benchmarks.
type CacheStats struct {
	Entries, Hits, Misses int
}

// Stats returns the documents held (both generations, each once) and the
// lookups since the cache was made.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.cur)
	for k := range c.prev {
		if c.cur[k] == nil {
			n++
		}
	}
	return CacheStats{Entries: n, Hits: c.hits, Misses: c.misses}
}
