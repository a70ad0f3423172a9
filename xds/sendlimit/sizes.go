package sendlimit

import (
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/internal/gencache"
)

// Sizes keeps, across checks, each resource's serialised size under the
// message itself, so that a reload after a one-host edit sizes only the
// resources the edit made anew. The message is a complete key: its size is
// a function of its content alone, and translate.Cache hands back an
// unchanged resource as the same message from one load to the next and
// never modifies a message after building it (the server's encodings rely
// on the same, xds/server/encodings.go); a message built anew is a new key.
// Entries are kept by generation (internal/gencache): Commit after a good
// load keeps only what it used, Abort after a failed one keeps the last good
// load's entries too. A nil *Sizes sizes every message afresh. It is safe
// for concurrent use.
type Sizes struct {
	sizes *gencache.Cache[proto.Message, int]
}

// NewSizes returns an empty memo.
func NewSizes() *Sizes { return &Sizes{sizes: gencache.New[proto.Message, int]()} }

// size is proto.Size(m), from the memo when m was sized before.
func (s *Sizes) size(m proto.Message) int {
	if s == nil {
		return proto.Size(m)
	}
	if n, ok := s.sizes.Get(m); ok {
		return n
	}
	n := proto.Size(m)
	s.sizes.Put(m, n)
	return n
}

// Commit ends a good load: only the sizes it used are kept.
func (s *Sizes) Commit() {
	if s != nil {
		s.sizes.Commit()
	}
}

// Abort ends a failed load: its sizes join the last good load's.
func (s *Sizes) Abort() {
	if s != nil {
		s.sizes.Abort()
	}
}

// Stats returns the memo's counts, for tests and benchmarks.
func (s *Sizes) Stats() gencache.Stats { return s.sizes.Stats() }
