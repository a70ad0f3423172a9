package anymemo

import (
	"bytes"
	"hash/maphash"
	"sync"
)

// Memo maps (type URL, bytes) to a V. An entry holds the bytes it was
// given, not a copy: the caller must not change them afterwards. With a
// bound, past that many entries the memo starts again. It is safe for
// concurrent use; the zero value is not (use New).
type Memo[V any] struct {
	mu   sync.Mutex
	seed maphash.Seed
	by   map[uint64][]*entry[V]
	n    int
	max  int // 0: unbounded
}

type entry[V any] struct {
	url   string
	value []byte
	v     V
}

// New returns an empty memo holding at most max entries (0: no bound).
func New[V any](max int) *Memo[V] {
	return &Memo[V]{seed: maphash.MakeSeed(), by: map[uint64][]*entry[V]{}, max: max}
}

// Hash is the key's hash, to pass to Get and Update when both are called.
func (m *Memo[V]) Hash(url string, value []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(url)
	h.WriteByte(0)
	h.Write(value)
	return h.Sum64()
}

// Get returns the value of (url, value), h being its Hash.
func (m *Memo[V]) Get(h uint64, url string, value []byte) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.find(h, url, value); e != nil {
		return e.v, true
	}
	var zero V
	return zero, false
}

// Update calls f, under the memo's lock, on the value of (url, value),
// adding a zero one first if there is none (found false).
func (m *Memo[V]) Update(h uint64, url string, value []byte, f func(v *V, found bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.find(h, url, value); e != nil {
		f(&e.v, true)
		return
	}
	if m.max > 0 && m.n >= m.max {
		m.by, m.n = map[uint64][]*entry[V]{}, 0
	}
	e := &entry[V]{url: url, value: value}
	m.by[h] = append(m.by[h], e)
	m.n++
	f(&e.v, false)
}

// Len is the number of entries.
func (m *Memo[V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

func (m *Memo[V]) find(h uint64, url string, value []byte) *entry[V] {
	for _, e := range m.by[h] {
		if e.url == url && bytes.Equal(e.value, value) {
			return e
		}
	}
	return nil
}
