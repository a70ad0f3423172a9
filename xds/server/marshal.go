package server

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/trustgate/trustgate/xds/sendlimit"
)

// marshalled is one type's resources marshalled: what a snapshot serves of
// the type, and what the next reload of the same group starts from. It is
// read-only once made; snapshots share it.
type marshalled struct {
	// in is the list marshalled, as buildSnapshot had it. Reuse is by
	// pointer identity, and holding the list keeps each of its messages
	// alive, so no later message can be allocated at one's address and be
	// taken for it.
	in    []types.Resource
	wire  [][]byte // wire[i] is in[i]'s deterministic marshal
	names []string // names[i] is in[i]'s name
	order []int    // in's indexes in name order
	// res is the wire resources, by name, with the type's version.
	res cache.Resources
	// sorted is the names in order; over is the type's whole response
	// over the send limit, or nil.
	sorted []string
	over   *sendlimit.Oversize
}

// sameList reports whether rs is the list m was made of, message for
// message. A list with the same length and first message can still differ
// further on (one host's route edited), so every message is compared.
func (m *marshalled) sameList(rs []types.Resource) bool {
	if m == nil || len(m.in) != len(rs) || (len(rs) > 0 && m.in[0] != rs[0]) {
		return false
	}
	for i, r := range rs {
		if m.in[i] != r {
			return false
		}
	}
	return true
}

// marshalType marshals every resource of one type once and derives the
// type's version from the bytes: SHA-256 over (name, bytes) pairs in name
// order, so equal content gives equal versions on any replica and any
// change to any resource of the type changes the version.
//
// last is what it made of the same group's type at the last reload (nil:
// none). compile hands an unchanged resource back as the same message, so a
// list identical to last's is last's result, and a message at the same
// position as in last is last's bytes: a reload marshals, names and sorts
// only what it did not have (the encodings' per-message cache, then
// marshalling), with no map lookup per unchanged resource. Of several
// resources that fail to marshal, the one first in name order is reported.
func marshalType(typeURL string, rs []types.Resource, last *marshalled, enc *encodings) (*marshalled, error) {
	if last.sameList(rs) {
		return last, nil
	}
	m := &marshalled{in: rs, wire: make([][]byte, len(rs)), names: make([]string, len(rs))}
	sameNames := last != nil && len(last.in) == len(rs)
	failed, failure := -1, error(nil)
	for i, r := range rs {
		if last != nil && i < len(last.in) && last.in[i] == r {
			m.wire[i], m.names[i] = last.wire[i], last.names[i]
			continue
		}
		name := cache.GetResourceName(r)
		m.names[i] = name
		sameNames = sameNames && name == last.names[i]
		b, err := enc.marshal(r)
		if err != nil {
			if failed < 0 || name < m.names[failed] {
				failed, failure = i, err
			}
			continue
		}
		m.wire[i] = b
	}
	if failed >= 0 {
		return nil, fmt.Errorf("%q: %w", m.names[failed], failure)
	}
	if sameNames {
		m.order = last.order // the same names at the same places
	} else {
		m.order = make([]int, len(rs))
		for i := range m.order {
			m.order[i] = i
		}
		slices.SortFunc(m.order, func(a, b int) int { return cmp.Compare(m.names[a], m.names[b]) })
	}
	h := newFieldHash()
	items := make([]types.Resource, 0, len(rs))
	m.sorted = make([]string, 0, len(rs))
	for _, i := range m.order {
		h.string(m.names[i])
		h.bytes(m.wire[i])
		items = append(items, newWireResource(m.names[i], m.wire[i]))
		m.sorted = append(m.sorted, m.names[i])
	}
	m.res = cache.NewResources(hex.EncodeToString(h.h.Sum(nil)), items)
	m.over = sendlimit.CheckType(typeURL, wireItems(items))
	return m, nil
}
