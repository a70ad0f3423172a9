package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"maps"
	"slices"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	protobuf "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// sotwCache answers state-of-the-world requests for listeners, clusters,
// routes and endpoints, in place of go-control-plane v0.14's SnapshotCache
// (which still serves delta, and secrets). It keeps the SnapshotCache's
// rules for SotW in ADS mode — respond when the client's version differs
// or it lacks a resource it asks for; withhold a response until the
// request names every resource of the type (envoy-mtls.md §9; simple.go
// respond and superset) — but builds each type's response once per
// snapshot and shares it between the proxies of a group.
//
// Why not the SnapshotCache: its SetSnapshot answers every open watch of
// the group while holding the cache's lock, and for each one builds a new
// response — a wrapper per resource, a map of every resource name, and for
// a watch naming resources a set of those names — so Reload grew with
// proxies × resources: 1.6–4.5 s for a route change at 1,000 hosts and
// 1,000 SotW proxies (docs/performance.md). Here answering a watch is
// handing it the shared response: the copy of the names map each stream
// keeps (go-control-plane's subscription edits it in place) is made by
// GetReturnedResources on the stream's own goroutine, and the resources
// are bytes encoded once that every stream sends as they are (codec.go).
//
// Every response carries the whole type, routes and endpoints too, though
// the classic SotW mux would take just the changed route configurations
// (GrpcMuxImpl::processDiscoveryResources, source/extensions/
// config_subscription/grpc/grpc_mux_impl.cc, updates only the watches whose
// resources are in the response): Envoy's unified mux takes a resource
// missing from a SotW response as removed (WatchMap::onConfigUpdate,
// source/common/config/watch_map.cc, "this update is removing all of this
// watch's resources"). Delta is the protocol that sends only changes.
type sotwCache struct {
	hash cache.NodeHash

	mu     sync.Mutex
	nextID int64
	groups map[string]*sotwGroup
}

type sotwGroup struct {
	types   map[string]*sotwType // by type URL
	watches map[int64]*sotwWatch
}

// sotwType is one type of a group's snapshot, read-only once built.
type sotwType struct {
	version string
	names   map[string]bool
	// namesSum identifies the set of names (SHA-256 over the sorted
	// names), so that a request naming exactly them needs no set built.
	namesSum [sha256.Size]byte
	// body is every resource encoded as DiscoveryResponse.resources
	// entries, in name order: the response's bytes that all streams share
	// (codec.go sends them as they are).
	body     []byte
	returned map[string]string // name -> version; cloned per response
}

type sotwWatch struct {
	req      *cache.Request
	ch       chan cache.Response
	namesSum [sha256.Size]byte // of the request's names, if any
}

func newSotwCache(hash cache.NodeHash) *sotwCache {
	return &sotwCache{hash: hash, groups: map[string]*sotwGroup{}}
}

// sotwTypes are the types this cache serves.
var sotwTypes = []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType}

// set installs a group's snapshot and answers the group's open watches
// whose version it changes, in ADS order (clusters, endpoints, listeners,
// routes). A type whose version is unchanged keeps its shared response.
func (c *sotwCache) set(group string, snap *cache.Snapshot) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.group(group)
	next := make(map[string]*sotwType, len(sotwTypes))
	for _, t := range sotwTypes {
		rs := snap.Resources[cache.GetResponseType(t)]
		if old := g.types[t]; old != nil && old.version == rs.Version {
			next[t] = old
			continue
		}
		st, err := newSotwType(t, rs)
		if err != nil {
			return err
		}
		next[t] = st
	}
	g.types = next
	ids := slices.Sorted(maps.Keys(g.watches))
	for _, t := range sotwTypes {
		for _, id := range ids {
			w := g.watches[id]
			if w == nil || w.req.GetTypeUrl() != t || w.req.GetVersionInfo() == next[t].version {
				continue
			}
			// As the SnapshotCache: a watch is answered or, when its
			// request does not name every resource, dropped.
			delete(g.watches, id)
			w.respond(next[t])
		}
	}
	return nil
}

func newSotwType(typeURL string, rs cache.Resources) (*sotwType, error) {
	st := &sotwType{version: rs.Version, names: make(map[string]bool, len(rs.Items)), returned: make(map[string]string, len(rs.Items))}
	names := slices.Sorted(maps.Keys(rs.Items))
	for _, name := range names {
		w, ok := rs.Items[name].Resource.(wireResource)
		if !ok {
			return nil, errors.New("sotw cache: a resource was not marshalled by buildSnapshot")
		}
		any, err := protobuf.MarshalOptions{Deterministic: true}.Marshal(&anypb.Any{TypeUrl: typeURL, Value: w.ProtoReflect().GetUnknown()})
		if err != nil {
			return nil, err
		}
		st.body = protowire.AppendTag(st.body, resourcesField, protowire.BytesType)
		st.body = protowire.AppendBytes(st.body, any)
		st.names[name] = true
		st.returned[name] = rs.Version
	}
	st.namesSum = namesSum(names)
	st.body = st.body[:len(st.body):len(st.body)] // an append to a response's unknown fields copies
	return st, nil
}

// resourcesField is DiscoveryResponse.resources' field number.
const resourcesField = 2

// namesSum hashes sorted, distinct names.
func namesSum(sorted []string) [sha256.Size]byte {
	h := sha256.New()
	for _, n := range sorted {
		writeField(h, []byte(n))
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

func (c *sotwCache) group(key string) *sotwGroup {
	g := c.groups[key]
	if g == nil {
		g = &sotwGroup{types: map[string]*sotwType{}, watches: map[int64]*sotwWatch{}}
		c.groups[key] = g
	}
	return g
}

// CreateWatch implements cache.ConfigWatcher: it answers at once when the
// client's version differs from the snapshot's or the client lacks a
// resource it subscribes to, and otherwise keeps the watch until a
// snapshot changes the version.
func (c *sotwCache) CreateWatch(req *cache.Request, sub cache.Subscription, ch chan cache.Response) (func(), error) {
	w := &sotwWatch{req: req, ch: ch}
	if names := req.GetResourceNames(); len(names) > 0 {
		w.namesSum = namesSum(slices.Compact(slices.Sorted(slices.Values(names))))
	}
	key := c.hash.ID(req.GetNode())
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.group(key)
	st := g.types[req.GetTypeUrl()]
	if st == nil || (req.GetVersionInfo() == st.version && !lacksResource(st, sub)) {
		c.nextID++
		id := c.nextID
		g.watches[id] = w
		return func() {
			c.mu.Lock()
			delete(g.watches, id)
			c.mu.Unlock()
		}, nil
	}
	w.respond(st)
	return func() {}, nil
}

// lacksResource reports whether the client subscribes to a resource of the
// snapshot it was not sent (a new subscription, or a new wildcard one).
func lacksResource(st *sotwType, sub cache.Subscription) bool {
	known := sub.ReturnedResources()
	if v, ok := known[sentWholeType]; ok {
		return v != st.version
	}
	if sub.IsWildcard() {
		for name := range st.names {
			if _, ok := known[name]; !ok {
				return true
			}
		}
		return false
	}
	for name := range sub.SubscribedResources() {
		if _, ok := known[name]; !ok && st.names[name] {
			return true
		}
	}
	return false
}

// respond hands w the type's response, unless its request names resources
// but not all of the type's: in ADS mode such a request is not answered,
// and Envoy asks again with the names from the listeners and clusters.
func (w *sotwWatch) respond(st *sotwType) {
	if names := w.req.GetResourceNames(); len(names) > 0 && w.namesSum != st.namesSum && !coversAll(names, st) {
		return
	}
	// The stream's response channel has room for one response per type,
	// and a stream has one watch per type (sotw/v3 ads.go).
	w.ch <- &sotwResponse{req: w.req, st: st}
}

// coversAll reports whether names include every resource of the type.
func coversAll(names []string, st *sotwType) bool {
	if len(names) < len(st.names) {
		return false
	}
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	for n := range st.names {
		if !set[n] {
			return false
		}
	}
	return true
}

// Fetch implements cache.ConfigFetcher; REST xDS is not served.
func (c *sotwCache) Fetch(context.Context, *cache.Request) (cache.Response, error) {
	return nil, errors.New("REST xDS is not served")
}

// CreateDeltaWatch implements cache.ConfigWatcher; delta requests go to the
// SnapshotCache (see newCaches).
func (c *sotwCache) CreateDeltaWatch(*cache.DeltaRequest, cache.Subscription, chan cache.DeltaResponse) (func(), error) {
	return nil, errors.New("sotw cache: delta requests are served by another cache")
}

// sotwResponse is a type's shared response, for one request.
type sotwResponse struct {
	req *cache.Request
	st  *sotwType
}

// GetDiscoveryResponse implements cache.Response. The response is new on
// each call (the server sets the stream's nonce in it); its resources are
// the type's shared bytes, carried as its unknown fields (so Resources is
// empty here, and full on the wire).
func (r *sotwResponse) GetDiscoveryResponse() (*discoveryv3.DiscoveryResponse, error) {
	d := &discoveryv3.DiscoveryResponse{VersionInfo: r.st.version, TypeUrl: r.req.GetTypeUrl()}
	d.ProtoReflect().SetUnknown(r.st.body)
	return d, nil
}

// GetRequest implements cache.Response.
func (r *sotwResponse) GetRequest() *discoveryv3.DiscoveryRequest { return r.req }

// GetVersion implements cache.Response.
func (r *sotwResponse) GetVersion() (string, error) { return r.st.version, nil }

// GetResponseVersion implements cache.Response.
func (r *sotwResponse) GetResponseVersion() string { return r.st.version }

// GetReturnedResources implements cache.Response: what the stream keeps as
// the resources it was sent. For a request naming resources, a copy of
// every name (the stream's subscription edits it in place when the names
// change: stream/v3 SetResourceSubscription). For one naming none or "*"
// (listeners and clusters), which go-control-plane never edits, one entry
// saying the whole type was sent at this version: in ADS mode every
// response carries the whole type, so that is all there is to know, and a
// stream does not keep a map of every cluster name.
func (r *sotwResponse) GetReturnedResources() map[string]string {
	if names := r.req.GetResourceNames(); len(names) == 0 || slices.Contains(names, "*") {
		return map[string]string{sentWholeType: r.st.version}
	}
	return maps.Clone(r.st.returned)
}

// sentWholeType is the key of that one entry; no resource is named so.
const sentWholeType = "\x00trustgate:whole-type"

// GetContext implements cache.Response.
func (r *sotwResponse) GetContext() context.Context { return context.Background() }

var (
	_ cache.Cache    = (*sotwCache)(nil)
	_ cache.Response = (*sotwResponse)(nil)
)

// clear forgets a group, freed once none of its proxies is connected (so it
// has no open watch).
func (c *sotwCache) clear(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.groups, group)
}
