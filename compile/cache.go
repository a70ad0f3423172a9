package compile

import (
	"github.com/trustgate/trustgate/internal/gencache"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/irbuild"
	"github.com/trustgate/trustgate/xds/sendlimit"
	"github.com/trustgate/trustgate/xds/translate"
)

// Cache carries what one load computed to the next, keyed by content, so a
// reload recomputes only what changed: each Envoy resource with its check
// findings by the content of its IR (translate.Cache), each document
// decoded, by its text, and each object's validation, by the object and
// what its checks read (model.Cache), each server's chains, by what
// building them read (irbuild.Memo), and each resource's size for the
// send-limit check, by the message translate.Cache handed back
// (sendlimit.Sizes). The caller holds it
// across loads (the server's file loader does); every result is the same
// with it as without it. It is safe for concurrent use.
type Cache struct {
	model     *model.Cache
	irbuild   *irbuild.Memo
	translate *translate.Cache
	sizes     *sendlimit.Sizes
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{model: model.NewCache(), irbuild: irbuild.NewMemo(), translate: translate.NewCache(), sizes: sendlimit.NewSizes()}
}

// WithCache makes Load and FromModel use and fill c. A good load keeps in c
// only what it used; a failed one keeps the last good load's entries too.
func WithCache(c *Cache) Option { return func(s *settings) { s.cache = c } }

// CacheStats are a Cache's counts, for tests and benchmarks.
type CacheStats struct {
	Documents   model.CacheStats
	Validations model.CacheStats
	Servers     gencache.Stats
	Resources   translate.CacheStats
	Sizes       gencache.Stats
}

// Stats returns the cache's counts.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Documents: c.model.Stats(), Validations: c.model.ValidationStats(), Servers: c.irbuild.Stats(), Resources: c.translate.Stats(), Sizes: c.sizes.Stats()}
}

// modelCache is the model cache of s's Cache, nil without one.
func (s settings) modelCache() *model.Cache {
	if s.cache == nil {
		return nil
	}
	return s.cache.model
}

// irbuildMemo is the server memo of s's Cache, nil without one.
func (s settings) irbuildMemo() *irbuild.Memo {
	if s.cache == nil {
		return nil
	}
	return s.cache.irbuild
}

// translateCache is the translate cache of s's Cache, nil without one
// (a nil *translate.Cache translates without caching).
func (s settings) translateCache() *translate.Cache {
	if s.cache == nil {
		return nil
	}
	return s.cache.translate
}

// sizes is the size memo of s's Cache, nil without one (a nil
// *sendlimit.Sizes sizes every resource afresh).
func (s settings) sizes() *sendlimit.Sizes {
	if s.cache == nil {
		return nil
	}
	return s.cache.sizes
}

// end closes a load's generation in the cache: Commit after a good load,
// Abort after a failed one.
func (s settings) end(err error) {
	if s.cache == nil {
		return
	}
	if err != nil {
		s.cache.model.Abort()
		s.cache.irbuild.Abort()
		s.cache.translate.Abort()
		s.cache.sizes.Abort()
		return
	}
	s.cache.model.Commit()
	s.cache.irbuild.Commit()
	s.cache.translate.Commit()
	s.cache.sizes.Commit()
}
