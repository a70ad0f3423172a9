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
// And each group's last good snapshot (lastGood): each type's marshal, so
// that a type whose list of messages is unchanged is served as it was, and
// in a changed list a message where it was before keeps its bytes without a
// lookup (marshal.go); and the references of its listeners and clusters, so
// that a reload whose listeners and clusters are the very messages of that
// snapshot's (a route edited) takes their references as they were.
type encodings struct {
	refs   *refs.Memo
	wire   *gencache.Cache[types.Resource, []byte]
	groups *gencache.Cache[string, *lastGood]
}

// lastGood is what buildSnapshot made of a group whose snapshot passed
// every check: each type's marshal, in servedTypes' order (each holding its
// list of messages, so pointer identity cannot be fooled by a reused
// address), and the references of the listeners and clusters among them.
type lastGood struct {
	types []*marshalled
	refs  refs.Refs
}

func newEncodings() *encodings {
	return &encodings{refs: refs.NewMemo(), wire: gencache.New[types.Resource, []byte](),
		groups: gencache.New[string, *lastGood]()}
}

// memo is the references' memo (nil without encodings: refs.Memo then
// collects afresh).
func (e *encodings) memo() *refs.Memo {
	if e == nil {
		return nil
	}
	return e.refs
}

// lastGood is the group's last good snapshot's (nil: none, or no
// encodings).
func (e *encodings) lastGood(group string) *lastGood {
	if e == nil {
		return nil
	}
	g, _ := e.groups.Get(group)
	return g
}

// keepGood keeps g as the group's last good snapshot's, for the next
// reload; buildSnapshot keeps it only once every check passed.
func (e *encodings) keepGood(group string, g *lastGood) {
	if e != nil {
		e.groups.Put(group, g)
	}
}

// last is g's marshal of the type at servedTypes[i] (nil: none).
func (g *lastGood) last(i int) *marshalled {
	if g == nil {
		return nil
	}
	return g.types[i]
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

// commit ends a good reload; abort a failed one.
func (e *encodings) commit() {
	if e != nil {
		e.refs.Commit()
		e.wire.Commit()
		e.groups.Commit()
	}
}

func (e *encodings) abort() {
	if e != nil {
		e.refs.Abort()
		e.wire.Abort()
		e.groups.Abort()
	}
}
