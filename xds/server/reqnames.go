package server

import (
	"bytes"
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// requestNames decodes ADS requests, sharing the decoded resource names
// of requests whose names are byte for byte those of a recent request. A
// SotW ACK repeats every name of its type (Envoy's
// GrpcMuxImpl::sendDiscoveryRequest, in
// source/extensions/config_subscription/grpc/grpc_mux_impl.cc, clears the
// request's names and adds every watch's resources each time), and every
// proxy of a group names the same ones: at 1,000 hosts each ACK of the
// route type names 1,000 route configurations, and decoding them (a string
// each, its UTF-8 checked) was a third of the server's CPU in a route
// change reaching 1,000 proxies. In a reconnect storm every proxy's first
// request of a type, SotW or delta, names them too. A request whose names
// field was seen recently is decoded without it, and gets the slice decoded
// then. Field 3 is the names in both kinds of request: resource_names of a
// DiscoveryRequest, resource_names_subscribe of a DeltaDiscoveryRequest.
//
// Envoy lists the names watch by watch (each watch's in a std::set's
// order), its watches in the order they were last updated
// (GrpcMuxWatchImpl::updateResources puts an updated watch first, in
// grpc_mux_impl.h): a stream's ACKs repeat its own list byte for byte, and
// proxies of one group with the same history send the same list. Proxies
// whose lists differ in order each have an entry, or miss when more lists
// than maxSharedNamesCost holds arrive between two ACKs of one stream: a
// miss costs one copy of the names' bytes besides the decoding it always
// cost.
//
// The result is the message proto.Unmarshal makes of the bytes: the names
// are the same bytes, which decoded without error then, and a repeated
// field's order is that of its entries wherever the other fields fall.
//
// The shared slices are read-only: nothing that reads a request may change
// its names (sotwSub.subscribe clones before deleting the wildcard; the
// interner sorts a copy; deltaSub.update builds lists of its own).
type requestNames struct {
	hash func([]byte) uint64 // maphash with a seed of its own (tests: colliding)
	mu   sync.Mutex
	// byHash holds the recent names fields by a hash of their bytes; fifo
	// is their order of arrival, for eviction, and size their entryCost.
	byHash map[uint64]*namesEntry
	fifo   []uint64
	size   int
	// byFirst holds the same entries by the address of their first name,
	// which identifies a slice handed out: while the entry is held, no
	// other array can have that address.
	byFirst map[*string]*namesEntry
}

// namesEntry is one names field: its bytes (every record of field 3, tags
// included), what they decode to and their quickSumOf; immutable once
// made, but for equals.
type namesEntry struct {
	raw   []byte
	names []string
	cost  int // what it holds (entryCost)
	quick quickSum
	// equals is the last nameSet the names were found to be exactly.
	equals atomic.Pointer[nameSet]
}

const (
	// minSharedNamesBytes is the size of a names field below which it is
	// decoded each time: a few names cost less than the lookup.
	minSharedNamesBytes = 512
	// maxSharedNamesCost bounds what the recent names fields hold, by
	// entryCost. Each group asks for a few lists (routes, endpoints,
	// secrets); a list of 10,000 route names costs about 1 MB.
	maxSharedNamesCost = 16 << 20
	// nameOverhead is what a decoded name holds besides its bytes: its
	// string header in the slice and its allocation's rounding. Counting
	// it keeps a list of many one-byte names (three bytes each on the
	// wire) from holding ten times its size.
	nameOverhead = 32
)

// entryCost is what an entry holds: its bytes, the names' bytes again and
// each name's overhead.
func entryCost(raw []byte, names []string) int {
	return 2*len(raw) + nameOverhead*len(names)
}

func newRequestNames() *requestNames {
	seed := maphash.MakeSeed()
	return &requestNames{hash: func(b []byte) uint64 { return maphash.Bytes(seed, b) },
		byHash: map[uint64]*namesEntry{}, byFirst: map[*string]*namesEntry{}}
}

// unmarshal decodes b into req as proto.Unmarshal does; names is req's
// field 3.
func (rn *requestNames) unmarshal(b []byte, req proto.Message, names *[]string) error {
	start, end, ok := namesField(b)
	if !ok || end-start < minSharedNamesBytes || 2*(end-start) > maxSharedNamesCost/4 {
		return proto.Unmarshal(b, req)
	}
	raw := b[start:end]
	h := rn.hash(raw)
	if e := rn.lookup(h, raw); e != nil {
		rest := make([]byte, 0, len(b)-len(raw))
		rest = append(append(rest, b[:start]...), b[end:]...)
		if err := proto.Unmarshal(rest, req); err != nil {
			return err
		}
		*names = e.names
		return nil
	}
	if err := proto.Unmarshal(b, req); err != nil {
		return err
	}
	// A list over the guard's bound is refused after decoding (guard.go):
	// not kept.
	cost := entryCost(raw, *names)
	if len(*names) > maxRequestNames || cost > maxSharedNamesCost/4 {
		return nil
	}
	// Clipped, so that an append to a request's names cannot write into
	// another's.
	*names = slices.Clip(*names)
	rn.add(h, &namesEntry{raw: bytes.Clone(raw), names: *names, cost: cost, quick: quickSumOf(*names)})
	return nil
}

// entry returns the entry whose slice names is, if it is held.
func (rn *requestNames) entry(names []string) *namesEntry {
	if rn == nil || len(names) == 0 {
		return nil
	}
	rn.mu.Lock()
	e := rn.byFirst[&names[0]]
	rn.mu.Unlock()
	if e == nil || len(e.names) != len(names) {
		return nil
	}
	return e
}

// quickOf is quickSumOf(names), kept for the names of a held entry: every
// ACK of a type repeats its names, and their hashes were a fifth of the
// server's CPU in a route change reaching 1,000 proxies.
func (rn *requestNames) quickOf(names []string) quickSum {
	if e := rn.entry(names); e != nil {
		return e.quick
	}
	return quickSumOf(names)
}

// holds is set.holds(names, quickSumOf(names)), remembered for the names
// of a held entry (with their sum): the set and the entry's names are both
// immutable.
func (rn *requestNames) holds(set *nameSet, names []string) bool {
	e := rn.entry(names)
	if e != nil && set != nil && e.equals.Load() == set {
		return true
	}
	var quick quickSum
	if e != nil {
		quick = e.quick
	} else {
		quick = quickSumOf(names)
	}
	if !set.holds(names, quick) {
		return false
	}
	if e != nil {
		e.equals.Store(set)
	}
	return true
}

// namesField finds the top-level records of field 3 (the names) in
// b: ok when there are some, all of them length-delimited and next to each
// other, and b parses as records up to its end (else proto.Unmarshal
// decodes it whole, and reports what is wrong).
func namesField(b []byte) (start, end int, ok bool) {
	const (
		names = 3 // resource_names, resource_names_subscribe
		// namesTag is a names record's tag as proto encoders write it: one
		// byte, which no other field's tag starts with (a longer tag's
		// first byte has its high bit set).
		namesTag = names<<3 | byte(protowire.BytesType)
	)
	start, end = -1, -1
	for at := 0; at < len(b); {
		if b[at] == namesTag { // a name: its length and bytes, without the general path
			l, n := protowire.ConsumeVarint(b[at+1:])
			if n < 0 || l > uint64(len(b)-at-1-n) {
				return 0, 0, false
			}
			if start >= 0 && end != at {
				return 0, 0, false // records apart
			}
			if start < 0 {
				start = at
			}
			at += 1 + n + int(l)
			end = at
			continue
		}
		num, typ, n := protowire.ConsumeTag(b[at:])
		if n < 0 {
			return 0, 0, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[at+n:])
		if m < 0 {
			return 0, 0, false
		}
		if num == names {
			if typ != protowire.BytesType || (start >= 0 && end != at) {
				return 0, 0, false // another wire type, or records apart
			}
			if start < 0 {
				start = at
			}
			end = at + n + m
		}
		at += n + m
	}
	return start, end, start >= 0
}

func (rn *requestNames) lookup(h uint64, raw []byte) *namesEntry {
	rn.mu.Lock()
	e := rn.byHash[h]
	rn.mu.Unlock()
	if e == nil || !bytes.Equal(e.raw, raw) {
		return nil
	}
	return e
}

// add keeps e, dropping the oldest entries past maxSharedNamesCost.
func (rn *requestNames) add(h uint64, e *namesEntry) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if old := rn.byHash[h]; old != nil {
		// A collision, or another stream got here first: e takes old's
		// place, in fifo too.
		rn.size -= old.cost
		delete(rn.byFirst, &old.names[0])
	} else {
		rn.fifo = append(rn.fifo, h)
	}
	rn.byHash[h], rn.byFirst[&e.names[0]] = e, e
	rn.size += e.cost
	for rn.size > maxSharedNamesCost && len(rn.fifo) > 0 {
		oldest := rn.fifo[0]
		rn.fifo = rn.fifo[1:]
		o := rn.byHash[oldest]
		rn.size -= o.cost
		delete(rn.byHash, oldest)
		delete(rn.byFirst, &o.names[0])
	}
}
