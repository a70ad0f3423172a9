package server

import (
	"crypto/sha256"
	"hash/maphash"
	"maps"
	"runtime"
	"slices"
	"sync"
	"weak"
)

// nameSet is a set of resource names, read-only once made. The streams of a
// group share one per distinct set (interner): most proxies of a group ask
// for the same names, so a stream's subscription costs a pointer, not a map
// of every name it asks for.
type nameSet struct {
	names map[string]struct{}
	sum   [sha256.Size]byte // namesSum of the sorted names
	quick quickSum          // quickSumOf the names
}

// emptyNames is the set of no names.
var emptyNames = &nameSet{names: map[string]struct{}{}, sum: namesSum(nil)}

// quickSum is an order-free sum of names: the sum of each name's two 64-bit
// hashes (hash/maphash, with seeds random per process). A list of names in
// any order has its set's sum; a list with a repeat, or of other names,
// has another but with a probability of about 2⁻¹²⁸; nameSet.holds checks
// the names too, so that it is never the only evidence. It tells a SotW stream that a request names
// what its last one did without sorting and hashing the names (namesSum):
// every SotW ACK repeats every name of its type, 1,000 route
// configurations at 1,000 hosts, and sorting them was a seventh of the
// server's CPU in a route change's fan-out.
type quickSum [2]uint64

var quickSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func quickSumOf(names []string) quickSum {
	var q quickSum
	for _, n := range names {
		q[0] += maphash.String(quickSeeds[0], n)
		q[1] += maphash.String(quickSeeds[1], n)
	}
	return q
}

// holds reports whether names (quick: their quickSumOf) are exactly s: as
// many, the same sum, and every one in s. The sum alone is not trusted:
// with membership checked, a wrong answer needs two distinct names of
// equal 128-bit hashes, not a crafted list whose hashes add up to another
// list's sum.
func (s *nameSet) holds(names []string, quick quickSum) bool {
	if s == nil || s.len() != len(names) || s.quick != quick {
		return false
	}
	for _, n := range names {
		if !s.has(n) {
			return false
		}
	}
	return true
}

func (s *nameSet) has(name string) bool {
	_, ok := s.names[name]
	return ok
}

func (s *nameSet) len() int { return len(s.names) }

// subsetOf reports whether every name of s is in o.
func (s *nameSet) subsetOf(o *nameSet) bool {
	if s == o {
		return true
	}
	if s.len() > o.len() {
		return false
	}
	for n := range s.names {
		if !o.has(n) {
			return false
		}
	}
	return true
}

// namesSum hashes sorted, distinct names.
func namesSum(sorted []string) [sha256.Size]byte {
	h := newFieldHash()
	for _, n := range sorted {
		h.string(n)
	}
	var out [sha256.Size]byte
	h.h.Sum(out[:0])
	return out
}

// interner hands out one nameSet per distinct set of names among the live
// ones. It holds them weakly: a set no stream refers to any more is
// collected and its entry dropped, so a client cycling through names grows
// nothing that outlives its stream.
type interner struct {
	mu   sync.Mutex
	sets map[[sha256.Size]byte]weak.Pointer[nameSet]
	// quick indexes the same sets by quickSum, so that a stream asking for
	// names another stream of its group asked for (its first request of a
	// type, mostly) finds the set without sorting and hashing them: a
	// reconnect storm of 1,000 proxies at 1,000 hosts sorted 1,000 route
	// names per proxy.
	quick map[quickSum]weak.Pointer[nameSet]
}

// of returns the interned set of names (in any order, repeats allowed).
func (in *interner) of(names []string) *nameSet {
	if len(names) == 0 {
		return emptyNames
	}
	q := quickSumOf(names)
	if s := in.lookupQuick(q); s.holds(names, q) {
		return s
	}
	sorted := slices.Compact(slices.Sorted(slices.Values(names)))
	sum := namesSum(sorted)
	if s := in.lookup(sum); s != nil {
		return s
	}
	m := make(map[string]struct{}, len(sorted))
	for _, n := range sorted {
		m[n] = struct{}{}
	}
	return in.add(&nameSet{names: m, sum: sum, quick: quickSumOf(sorted)})
}

// ofSet returns the interned set equal to m, which it may keep: the caller
// must not change m afterwards.
func (in *interner) ofSet(m map[string]struct{}) *nameSet {
	if len(m) == 0 {
		return emptyNames
	}
	sorted := slices.Sorted(maps.Keys(m))
	sum := namesSum(sorted)
	if s := in.lookup(sum); s != nil {
		return s
	}
	return in.add(&nameSet{names: m, sum: sum, quick: quickSumOf(sorted)})
}

func (in *interner) lookup(sum [sha256.Size]byte) *nameSet {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sets[sum].Value()
}

func (in *interner) lookupQuick(q quickSum) *nameSet {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.quick[q].Value()
}

func (in *interner) add(s *nameSet) *nameSet {
	in.mu.Lock()
	defer in.mu.Unlock()
	if old := in.sets[s.sum].Value(); old != nil {
		return old // another stream made it meanwhile
	}
	if in.sets == nil {
		in.sets = map[[sha256.Size]byte]weak.Pointer[nameSet]{}
		in.quick = map[quickSum]weak.Pointer[nameSet]{}
	}
	wp := weak.Make(s)
	in.sets[s.sum], in.quick[s.quick] = wp, wp
	runtime.AddCleanup(s, in.drop, dropKey{sum: s.sum, quick: s.quick, wp: wp})
	return s
}

type dropKey struct {
	sum   [sha256.Size]byte
	quick quickSum
	wp    weak.Pointer[nameSet]
}

// drop forgets a collected set, unless its entries were replaced since.
func (in *interner) drop(k dropKey) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.sets[k.sum] == k.wp {
		delete(in.sets, k.sum)
	}
	if in.quick[k.quick] == k.wp {
		delete(in.quick, k.quick)
	}
}

// live returns how many sets are interned (for tests).
func (in *interner) live() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.sets)
}

// intersect returns the names of s that are in o: s itself when all are,
// else an interned set.
func (in *interner) intersect(s, o *nameSet) *nameSet {
	if s.subsetOf(o) {
		return s
	}
	if o.subsetOf(s) {
		return o
	}
	m := map[string]struct{}{}
	for n := range s.names {
		if o.has(n) {
			m[n] = struct{}{}
		}
	}
	return in.ofSet(m)
}
