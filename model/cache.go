package model

import (
	"crypto/sha256"

	"github.com/trustgate/trustgate/internal/gencache"
)

// Cache keeps decoded documents across loads, each under the SHA-256 of its
// text: a document whose text is unchanged is neither parsed nor decoded
// again, wherever it now sits. Positions are kept relative to the document
// and rebased on reuse, so errors still name the right file:line after the
// document moved (lines inserted above it, or a move to another file); the
// entry is then replaced by the moved one, so that the loads after a move
// reuse the object as they would an unmoved one. The
// caller holds it across loads (LoadWith); the Config a load returns is the
// same with it as without it.
//
// Decoded objects are shared between the loads that reuse them: no stage
// after Load modifies a loaded object (ResolveShortNames copies), which is
// what makes sharing them safe. ConfigMaps, which readMesh annotates, are
// not kept.
//
// Entries are kept by generation (internal/gencache): Commit after a good
// load keeps only what it used; Abort after a failed one keeps both. It is
// safe for concurrent use.
//
// It also holds the validation memo (ValidateWith, validate_memo.go), which
// the same Commit and Abort end.
type Cache struct {
	docs        *gencache.Cache[[sha256.Size]byte, *docEntry]
	validations *validations
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
	return &Cache{docs: gencache.New[[sha256.Size]byte, *docEntry](), validations: newValidations()}
}

func (c *Cache) get(k [sha256.Size]byte) *docEntry {
	e, _ := c.docs.Get(k)
	return e
}

func (c *Cache) put(k [sha256.Size]byte, e *docEntry) { c.docs.Put(k, e) }

// Commit ends a good load: only the documents it used are kept.
func (c *Cache) Commit() {
	if c != nil {
		c.docs.Commit()
		c.validations.entries.Commit()
	}
}

// Abort ends a failed load: the documents it used join those of the last
// good load until the next Commit.
func (c *Cache) Abort() {
	if c != nil {
		c.docs.Abort()
		c.validations.entries.Abort()
	}
}

// CacheStats are a cache's counts, for tests and benchmarks: the documents
// held (both generations, each once) and the lookups since it was made.
type CacheStats = gencache.Stats

// Stats returns the cache's counts.
func (c *Cache) Stats() CacheStats { return c.docs.Stats() }

// ValidationStats returns the validation memo's counts: the objects held
// and the lookups since the cache was made.
func (c *Cache) ValidationStats() CacheStats { return c.validations.entries.Stats() }
