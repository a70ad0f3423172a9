package translate

import (
	"sync"

	"google.golang.org/protobuf/proto"
)

// Cache keeps translated resources across Translate calls, each under the
// content key of the IR it came from (contentKey: every field, hashed), with
// its check findings (references included, decided against each call's own
// set) and its deterministic wire bytes. An IR equal to one translated before
// is neither built, validated, walked nor marshalled again. The caller holds
// it (the server across reloads, through compile); nil means no cache.
//
// It changes no result: the same IR gives byte-identical resources and the
// same findings whether the cache is warm, cold or absent, since a key is
// the whole content of what a builder reads (builders read nothing else) and
// findings that depend on other resources are decided afresh each call.
//
// Entries are kept by generation: a Translate uses and fills the current
// one, and Commit, at the end of a good load, makes it the only one kept,
// so entries the latest load did not use are dropped and memory follows the
// configuration, not the history of edits. Abort, after a failed load,
// keeps both (the last good load's entries stay for the next).
// It is safe for concurrent use.
type Cache struct {
	mu        sync.Mutex
	cur, prev map[key]*entry
	hits      int
	misses    int
}

// entry is one IR object's translation.
type entry struct {
	msgs  []proto.Message // the resource; a cluster's ClusterLoadAssignment second
	found [][]finding     // each message's findings
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{cur: map[key]*entry{}, prev: map[key]*entry{}} }

// get returns the entry under k, if any, and marks it used by this load.
func (c *Cache) get(k key) *entry {
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

func (c *Cache) put(k key, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur[k] = e
}

// Commit ends a good load: only the entries it used are kept.
func (c *Cache) Commit() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prev, c.cur = c.cur, map[key]*entry{}
}

// Abort ends a failed load: the entries it used join those of the last
// good load, and all are kept until the next Commit.
func (c *Cache) Abort() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.cur {
		c.prev[k] = e
	}
	c.cur = map[key]*entry{}
}

// CacheStats are a cache's counts, for tests and benchmarks.
type CacheStats struct {
	Entries, Hits, Misses int
}

// Stats returns the entries held (both generations, each once) and the
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
