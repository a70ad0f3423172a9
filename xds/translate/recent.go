package translate

import (
	"bytes"
	"hash/maphash"
	"sync"
)

// recentPayloads are the findings of typed configs toAny packed lately, by
// type URL and bytes: a cold build of 10,000 hosts packs the same access
// log, TLS context, router and retry predicate 10,000 times each, and
// validated and walked each (docs/performance.md). An entry holds the first
// Any's own bytes, not a copy. At most recentMax are kept: past that the
// set starts again, so that a server building config after config does not
// hold every payload it ever packed (at 10,000 hosts a chain's HCM is about
// 1.5 kB: 1,024 of them keep about 1.5 MB alive). The payloads that repeat
// are a handful; each comes back at its next packing after a restart.
var recentPayloads = &payloadMemo{seed: maphash.MakeSeed()}

const recentMax = 1024

// payloadMemo maps a typed config's type URL and bytes to its findings.
type payloadMemo struct {
	mu   sync.Mutex
	seed maphash.Seed
	by   map[uint64][]*recentPayload
	n    int
}

type recentPayload struct {
	url   string
	value []byte
	found []finding
}

func (m *payloadMemo) hash(url string, value []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(url)
	h.WriteByte(0)
	h.Write(value)
	return h.Sum64()
}

// get returns the findings of the typed config of type url and bytes value
// if it is remembered.
func (m *payloadMemo) get(url string, value []byte) (_ []finding, ok bool) {
	h := m.hash(url, value)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.by[h] {
		if p.url == url && bytes.Equal(p.value, value) {
			return p.found, true
		}
	}
	return nil, false
}

// put remembers the findings of the typed config of type url and bytes
// value.
func (m *payloadMemo) put(url string, value []byte, found []finding) {
	h := m.hash(url, value)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.by == nil || m.n >= recentMax {
		m.by, m.n = map[uint64][]*recentPayload{}, 0
	}
	m.by[h] = append(m.by[h], &recentPayload{url: url, value: value, found: found})
	m.n++
}
