package main

import (
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	// The access loggers translate puts in listeners: decoding a listener
	// opens every typed config, so their types must be registered here too.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/filters/cel/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/refs"
)

// refsCache decodes each listener or cluster once per content and keeps the
// names it references: every client of a group receives the same bytes, so
// decoding them once per client would make the clients, not the server, the
// bottleneck of the run (docs/performance.md).
type refsCache struct {
	mu sync.Mutex
	m  map[string]*refEntry // type URL + "\x00" + resource bytes
}

type refEntry struct {
	once sync.Once
	r    refs.Refs
	err  error
}

func newRefsCache() *refsCache { return &refsCache{m: map[string]*refEntry{}} }

// of returns what one listener or cluster references.
func (c *refsCache) of(a *anypb.Any) (refs.Refs, error) {
	key := a.GetTypeUrl() + "\x00" + string(a.GetValue())
	c.mu.Lock()
	e := c.m[key]
	if e == nil {
		e = &refEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.r, e.err = decodeRefs(a) })
	return e.r, e.err
}

func decodeRefs(a *anypb.Any) (refs.Refs, error) {
	switch a.GetTypeUrl() {
	case envoytest.ListenerType:
		l := &listenerv3.Listener{}
		if err := proto.Unmarshal(a.GetValue(), l); err != nil {
			return refs.Refs{}, err
		}
		return refs.Collect([]*listenerv3.Listener{l}, nil)
	case envoytest.ClusterType:
		cl := &clusterv3.Cluster{}
		if err := proto.Unmarshal(a.GetValue(), cl); err != nil {
			return refs.Refs{}, err
		}
		return refs.Collect(nil, []*clusterv3.Cluster{cl})
	}
	return refs.Refs{}, nil
}
