package server

import (
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
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
//
// And each group's last references (collected): a reload whose listeners
// and clusters are the very messages of the group's last one (a route
// edited) takes their references as they were.
type encodings struct {
	refs      *refs.Memo
	wire      *gencache.Cache[types.Resource, []byte]
	types     *gencache.Cache[typeKey, *marshalled]
	collected *gencache.Cache[string, *collected]
}

// collected is one group's references, and the lists they were collected
// from (held, so that their messages stay alive: see marshalled.in).
type collected struct {
	listeners []*listenerv3.Listener
	clusters  []*clusterv3.Cluster
	want      refs.Refs
}

func newEncodings() *encodings {
	return &encodings{refs: refs.NewMemo(), wire: gencache.New[types.Resource, []byte](),
		types: gencache.New[typeKey, *marshalled](), collected: gencache.New[string, *collected]()}
}

// collect returns the references of a group's listeners and clusters
// (refs.Memo.Collect; refs.Collect without encodings). Lists of the very
// messages of the group's last call are answered as that call was, their
// memo entries kept (Memo.Keep), as references are a function of the
// messages alone.
func (e *encodings) collect(group string, ls []*listenerv3.Listener, cs []*clusterv3.Cluster) (refs.Refs, error) {
	if e == nil {
		return refs.Collect(ls, cs)
	}
	if last, ok := e.collected.Get(group); ok && slices.Equal(last.listeners, ls) && slices.Equal(last.clusters, cs) {
		e.refs.Keep(ls, cs)
		return last.want, nil
	}
	want, err := e.refs.Collect(ls, cs)
	if err != nil {
		return refs.Refs{}, err
	}
	e.collected.Put(group, &collected{listeners: ls, clusters: cs, want: want})
	return want, nil
}

// keepRefs keeps the references of a group's listeners and clusters for a
// reload that took them as checked (buildSnapshot), as collect would have.
func (e *encodings) keepRefs(group string, ls []*listenerv3.Listener, cs []*clusterv3.Cluster) {
	if e == nil {
		return
	}
	e.collected.Get(group)
	e.refs.Keep(ls, cs)
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

// commit ends a good reload; abort a failed one.
func (e *encodings) commit() {
	if e != nil {
		e.refs.Commit()
		e.wire.Commit()
		e.types.Commit()
		e.collected.Commit()
	}
}

func (e *encodings) abort() {
	if e != nil {
		e.refs.Abort()
		e.wire.Abort()
		e.types.Abort()
		e.collected.Abort()
	}
}
