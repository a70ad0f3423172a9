package server

import (
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/trustgate/trustgate/internal/gencache"
	"github.com/trustgate/trustgate/xds/server/refs"
)

// encodings keeps, across reloads, what buildSnapshot works out of each
// resource on its own: its references (refs.Memo) and its deterministic
// marshal. compile hands back an unchanged resource as the same message
// from one load to the next (translate.Cache keeps one message per content
// key and never modifies it after building it), so the message itself is
// the key, and a reload after a one-host edit marshals and walks only what
// the edit made anew. Entries are kept by generation (internal/gencache):
// a good reload keeps what it used, a failed one keeps the last good one's
// too. A nil *encodings works everything out afresh.
//
// Each group's marshal of each type is kept too (marshal.go): a type whose
// list of messages is unchanged is served as it was, and in a changed list
// a message where it was before keeps its bytes without a lookup.
type encodings struct {
	refs  *refs.Memo
	wire  *gencache.Cache[types.Resource, []byte]
	types *gencache.Cache[typeKey, *marshalled]
}

func newEncodings() *encodings {
	return &encodings{refs: refs.NewMemo(), wire: gencache.New[types.Resource, []byte](),
		types: gencache.New[typeKey, *marshalled]()}
}

// lastMarshal is what marshalType made of the group's type last (nil: none,
// or no encodings).
func (e *encodings) lastMarshal(group, typeURL string) *marshalled {
	if e == nil {
		return nil
	}
	m, _ := e.types.Get(typeKey{group, typeURL})
	return m
}

// keepMarshal keeps m as the group's type's marshal for the next reload;
// buildSnapshot keeps a group's types only once all of them passed its
// checks.
func (e *encodings) keepMarshal(group, typeURL string, m *marshalled) {
	if e != nil {
		e.types.Put(typeKey{group, typeURL}, m)
	}
}

// marshal returns r's deterministic marshal (cache.MarshalResource).
func (e *encodings) marshal(r types.Resource) ([]byte, error) {
	if e == nil {
		return cache.MarshalResource(r)
	}
	if b, ok := e.wire.Get(r); ok {
		return b, nil
	}
	b, err := cache.MarshalResource(r)
	if err != nil {
		return nil, err
	}
	e.wire.Put(r, b)
	return b, nil
}

// memo is the references' memo (nil without encodings).
func (e *encodings) memo() *refs.Memo {
	if e == nil {
		return nil
	}
	return e.refs
}

// commit ends a good reload; abort a failed one.
func (e *encodings) commit() {
	if e != nil {
		e.refs.Commit()
		e.wire.Commit()
		e.types.Commit()
	}
}

func (e *encodings) abort() {
	if e != nil {
		e.refs.Abort()
		e.wire.Abort()
		e.types.Abort()
	}
}
