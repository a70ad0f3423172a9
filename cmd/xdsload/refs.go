package main

import (
	"hash/maphash"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	// The access loggers translate puts in listeners: decoding a listener
	// opens every typed config, so their types must be registered here too.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/refs"
)

// refsCache decodes each listener or cluster once per content and keeps the
// names it references: every client of a group receives the same bytes, so
// decoding them once per client would make the clients, not the server, the
// bottleneck of the run (docs/performance.md). A content is known by its
// refKey, and a client keeps a pointer to its entry per resource it holds, not
// the bytes.
//
// It also interns the names and versions delta clients keep of every
// resource they hold (intern): a thousand clients would otherwise each keep
// a copy of the same few thousand strings.
type refsCache struct {
	seeds [2]maphash.Seed
	mu    sync.Mutex
	m     map[refKey]*refEntry
	strMu sync.Mutex
	strs  map[string]string
}

// refKey is a resource's content key: two 64-bit hashes, with independent
// random seeds, of its type URL and bytes. Two contents of a run share a
// key with a probability of about n²/2¹²⁹ for n contents, nil for the
// few thousand of a run.
type refKey [2]uint64

type refEntry struct {
	once sync.Once
	r    refs.Refs
	err  error
}

func newRefsCache() *refsCache {
	return &refsCache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: map[refKey]*refEntry{}, strs: map[string]string{}}
}

// intern returns b as a string shared by every client of the run; b need
// not outlive the call.
func (c *refsCache) intern(b []byte) string {
	c.strMu.Lock()
	defer c.strMu.Unlock()
	s, ok := c.strs[string(b)] // no copy of b for the lookup
	if !ok {
		s = string(b)
		c.strs[s] = s
	}
	return s
}

// add returns the entry of a listener or cluster's bytes, decoding what it
// references the first time the content is seen. b need not outlive the
// call.
func (c *refsCache) add(typeURL string, b []byte) (*refEntry, error) {
	var k refKey
	for i, seed := range c.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(typeURL)
		h.WriteByte(0)
		h.Write(b)
		k[i] = h.Sum64()
	}
	c.mu.Lock()
	e := c.m[k]
	if e == nil {
		e = &refEntry{}
		c.m[k] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.r, e.err = decodeRefs(typeURL, b) })
	return e, e.err
}

func decodeRefs(typeURL string, b []byte) (refs.Refs, error) {
	switch typeURL {
	case envoytest.ListenerType:
		l := &listenerv3.Listener{}
		if err := proto.Unmarshal(b, l); err != nil {
			return refs.Refs{}, err
		}
		return refs.Collect([]*listenerv3.Listener{l}, nil)
	case envoytest.ClusterType:
		cl := &clusterv3.Cluster{}
		if err := proto.Unmarshal(b, cl); err != nil {
			return refs.Refs{}, err
		}
		return refs.Collect(nil, []*clusterv3.Cluster{cl})
	}
	return refs.Refs{}, nil
}
