package dump

import (
	"bytes"
	"hash/maphash"
	"sync"

	"google.golang.org/protobuf/proto"
)

// renderer is one streamed render's state, shared by its workers: which
// typed configs hold keys, and the rendering of typed configs met again.
type renderer struct {
	showSecrets bool
	scan        keyScan
	anys        anyJSON
}

// redacted is m, or its redacted copy if it holds a key and secrets are
// not shown.
func (r *renderer) redacted(m proto.Message) (proto.Message, error) {
	if r.showSecrets || !r.scan.holdsKeys(m.ProtoReflect()) {
		return m, nil
	}
	return redact(m)
}

// anyJSON remembers how typed configs met more than once render: the
// chains of a listener repeat the same TLS context, router, retry
// predicate and access log (whose JSON format is a google.protobuf.Struct
// of a dozen fields), each unmarshalled and rendered anew for every chain
// (docs/performance.md). Rendering is a pure function of the Any's type URL
// and bytes, which are the key. A typed config is remembered from its
// second meeting on, so that the configurations unique to a chain (its HCM)
// are not held twice; the first meeting keeps only a hash and the Any's
// own bytes, not a copy.
type anyJSON struct {
	mu   sync.Mutex
	seed maphash.Seed
	by   map[uint64][]*renderedAny
}

// renderedAny is one typed config met: its type and bytes (the first Any's
// own), and its rendering once met twice.
type renderedAny struct {
	url   string
	value []byte
	json  []byte
}

func (c *anyJSON) hash(url string, value []byte) uint64 {
	c.mu.Lock()
	if c.by == nil {
		c.seed = maphash.MakeSeed()
		c.by = map[uint64][]*renderedAny{}
	}
	seed := c.seed
	c.mu.Unlock()
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(url)
	h.WriteByte(0)
	h.Write(value)
	return h.Sum64()
}

// get returns the rendering of the typed config of type url and bytes
// value, if it is remembered.
func (c *anyJSON) get(h uint64, url string, value []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.by[h] {
		if r.url == url && bytes.Equal(r.value, value) {
			return r.json
		}
	}
	return nil
}

// put records that the typed config rendered as json: the first time its
// type and bytes only, the second its rendering too.
func (c *anyJSON) put(h uint64, url string, value, json []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.by[h] {
		if r.url == url && bytes.Equal(r.value, value) {
			if r.json == nil {
				r.json = bytes.Clone(json)
			}
			return
		}
	}
	c.by[h] = append(c.by[h], &renderedAny{url: url, value: value})
}
