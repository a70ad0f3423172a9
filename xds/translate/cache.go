package translate

import (
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/internal/gencache"
)

// Cache keeps translated resources across Translate calls, each under the
// content key of the IR it came from (contentKey: every field, hashed), with
// its check findings (references included, decided against each call's own
// set). An IR equal to one translated before
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
	entries *gencache.Cache[key, *entry]
}

// entry is one IR object's translation.
type entry struct {
	msgs  []proto.Message // the resource; a cluster's ClusterLoadAssignment second
	found [][]finding     // each message's findings
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{entries: gencache.New[key, *entry]()} }

// get returns the entry under k, if any, and marks it used by this load.
func (c *Cache) get(k key) *entry {
	e, _ := c.entries.Get(k)
	return e
}

func (c *Cache) put(k key, e *entry) { c.entries.Put(k, e) }

// Commit ends a good load: only the entries it used are kept.
func (c *Cache) Commit() {
	if c != nil {
		c.entries.Commit()
	}
}

// Abort ends a failed load: the entries it used join those of the last
// good load, and all are kept until the next Commit.
func (c *Cache) Abort() {
	if c != nil {
		c.entries.Abort()
	}
}

// CacheStats are a cache's counts, for tests and benchmarks: the entries
// held (both generations, each once) and the lookups since it was made.
type CacheStats = gencache.Stats

// Stats returns the cache's counts.
func (c *Cache) Stats() CacheStats { return c.entries.Stats() }
