package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	protobuf "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// caches holds, per proxy group, what the ADS streams (ads.go) serve: one
// immutable typeSnap per resource type, replaced as a whole by a reload,
// and the group's interned name sets (names.go). A reload builds the new
// states and wakes the group's streams by closing one channel, so its cost
// does not grow with the proxies connected; each stream then works out its
// own response on its own goroutine, from the shared state.
type caches struct {
	mu     sync.Mutex
	groups map[string]*groupEntry
}

// groupEntry is one group's served state.
type groupEntry struct {
	state atomic.Pointer[groupState]
	names interner
}

// groupState is what a group serves at one time, read-only once stored.
type groupState struct {
	types [numTypes]*typeSnap // nil before the group's first snapshot
	// changed is closed when the state is replaced (or the group cleared).
	changed chan struct{}
}

// The types served, in the order a stream sends what changed: secrets first
// (a reload rotating a certificate and changing a listener sends the
// certificate before the listener that uses it), then Envoy's ADS order,
// clusters, endpoints, listeners, routes.
const (
	secretIdx = iota
	clusterIdx
	endpointIdx
	listenerIdx
	routeIdx
	numTypes
)

var typeURLs = [numTypes]string{resource.SecretType, resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType}

// typeIndex returns a served type's index, or -1.
func typeIndex(typeURL string) int {
	return slices.Index(typeURLs[:], typeURL)
}

// typeSnap is one type of a group's snapshot, read-only once built: the
// SotW response's bytes, shared by every stream of the group, and the delta
// resources, shared by every delta response.
type typeSnap struct {
	typeURL string
	version string
	// resources by name, with the SnapshotCache's delta versions (hex
	// SHA-256 of the marshalled resource), so a proxy that resumes with
	// initial_resource_versions from go-control-plane is not sent
	// everything again.
	resources map[string]*discoveryv3.Resource
	sorted    []string // the names, in order
	// namesSum identifies the set of names (namesSum), so that a request
	// naming exactly them needs no comparison.
	namesSum [sha256.Size]byte
	// body is every resource encoded as DiscoveryResponse.resources
	// entries, in name order: a whole-type SotW response's bytes, sent as
	// they are by every stream (codec.go).
	body []byte
	// deltaBody is every resource encoded as DeltaDiscoveryResponse.resources
	// entries, in name order: a delta response carrying the whole type
	// (a stream's first, mostly) sends these bytes as they are.
	deltaBody []byte
	// entries (secrets and route configurations) are each resource's part
	// of body, for responses that carry only the secrets a request names,
	// or only the route configurations that changed (sotwstream.go).
	entries map[string][]byte
	// prev is the state this one replaced (until this one is replaced in
	// turn: no chain of old states is kept), and changed the names added,
	// changed or removed since it.
	prev    atomic.Pointer[typeSnap]
	changed []string
	// changedBody (route configurations only) is the entries of body of
	// the changed resources, in name order: a SotW response to a stream
	// holding prev (sotwSub.holdsPrev), shared by every such stream.
	changedBody []byte
	// spans are each resource's entries in body and deltaBody, in name
	// order, for the next state to copy those of unchanged resources.
	spans []entrySpans
}

func newCaches() *caches { return &caches{groups: map[string]*groupEntry{}} }

// entry returns a group's entry, making an empty one if needed.
func (c *caches) entry(key string) *groupEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.groups[key]
	if e == nil {
		e = &groupEntry{}
		e.state.Store(&groupState{changed: make(chan struct{})})
		c.groups[key] = e
	}
	return e
}

// clear forgets a group, freed once none of its proxies is connected. A
// stream still holding the entry (one ending) is woken and finds it
// cleared.
func (c *caches) clear(key string) {
	c.mu.Lock()
	e := c.groups[key]
	delete(c.groups, key)
	c.mu.Unlock()
	if e != nil {
		old := e.state.Swap(&groupState{changed: make(chan struct{})})
		close(old.changed)
	}
}

// set installs a group's snapshot; a type whose version is unchanged keeps
// its state (and so its shared bytes). Set is called under groups.mu, one
// at a time.
func (c *caches) set(_ context.Context, key string, s *snapshot) error {
	e := c.entry(key)
	old := e.state.Load()
	next := &groupState{changed: make(chan struct{})}
	for i, typeURL := range typeURLs {
		rs := s.served.Resources[cache.GetResponseType(typeURL)]
		if prev := old.types[i]; prev != nil && prev.version == rs.Version {
			next.types[i] = prev
			continue
		}
		st, err := newTypeSnap(typeURL, rs, s.names[typeURL], old.types[i])
		if err != nil {
			return fmt.Errorf("setting snapshot of group %q: %w", key, err)
		}
		next.types[i] = st
	}
	e.state.Store(next)
	close(old.changed)
	for i, st := range old.types {
		if st != nil && next.types[i] != st {
			st.prev.Store(nil)
		}
	}
	return nil
}

// newTypeSnap makes a type's state of rs, whose names are names (sorted,
// as buildSnapshot has them). A resource whose bytes are those prev served
// keeps prev's Resource, and its encoded entries are copied from prev's
// bodies rather than sized and marshalled again: a one-host edit at 10,000
// hosts changes one route configuration of 10,000.
func newTypeSnap(typeURL string, rs cache.Resources, names []string, prev *typeSnap) (*typeSnap, error) {
	st := &typeSnap{typeURL: typeURL, version: rs.Version, resources: make(map[string]*discoveryv3.Resource, len(rs.Items))}
	st.prev.Store(prev)
	if len(names) != len(rs.Items) {
		return nil, fmt.Errorf("%d names for %d resources", len(names), len(rs.Items))
	}
	list := make([]*discoveryv3.Resource, len(names))
	from := make([]int, len(names)) // the position in prev whose entries are copied, or -1
	bodyLen, deltaLen := 0, 0
	for i, name := range names {
		w, ok := rs.Items[name].Resource.(wireResource)
		if !ok {
			return nil, errors.New("a resource was not marshalled by buildSnapshot")
		}
		b := w.ProtoReflect().GetUnknown()
		res := prev.get(name)
		from[i] = -1
		if res == nil || string(res.GetResource().GetValue()) != string(b) {
			sum := sha256.Sum256(b) // cache.HashResource
			res = &discoveryv3.Resource{Name: name, Version: hex.EncodeToString(sum[:]), Resource: &anypb.Any{TypeUrl: typeURL, Value: b}}
			st.changed = append(st.changed, name)
		} else {
			from[i] = prev.position(i, name)
		}
		st.resources[name] = res
		list[i] = res
		if j := from[i]; j >= 0 {
			bodyLen += prev.spans[j].body[1] - prev.spans[j].body[0]
			deltaLen += prev.spans[j].delta[1] - prev.spans[j].delta[0]
			continue
		}
		bodyLen += entrySize(res.GetResource())
		deltaLen += entrySize(res)
	}
	// Sized up front: grown by append, the bodies of 10,000 route
	// configurations were allocated about twice over on every reload.
	st.body, st.deltaBody = make([]byte, 0, bodyLen), make([]byte, 0, deltaLen)
	st.spans = make([]entrySpans, len(list))
	for i, res := range list {
		sp := &st.spans[i]
		sp.body[0], sp.delta[0] = len(st.body), len(st.deltaBody)
		if j := from[i]; j >= 0 {
			p := prev.spans[j]
			st.body = append(st.body, prev.body[p.body[0]:p.body[1]]...)
			st.deltaBody = append(st.deltaBody, prev.deltaBody[p.delta[0]:p.delta[1]]...)
		} else {
			var err error
			if st.body, err = appendEntry(st.body, res.GetResource()); err != nil {
				return nil, err
			}
			if st.deltaBody, err = appendEntry(st.deltaBody, res); err != nil {
				return nil, err
			}
		}
		sp.body[1], sp.delta[1] = len(st.body), len(st.deltaBody)
	}
	if prev != nil {
		for name := range prev.resources {
			if st.resources[name] == nil {
				st.changed = append(st.changed, name)
			}
		}
	}
	slices.Sort(st.changed)
	st.namesSum, st.sorted = namesSum(names), names
	st.body = st.body[:len(st.body):len(st.body)] // an append to a response's unknown fields copies
	st.deltaBody = st.deltaBody[:len(st.deltaBody):len(st.deltaBody)]
	if byName(typeURL) {
		st.entries = make(map[string][]byte, len(names))
		for i, sp := range st.spans {
			st.entries[names[i]] = st.body[sp.body[0]:sp.body[1]:sp.body[1]]
		}
	}
	if typeURL == resource.RouteType && prev != nil {
		b := st.subset(st.changed)
		st.changedBody = b[:len(b):len(b)]
	}
	return st, nil
}

// entrySpans are where one resource's entries are in a typeSnap's body and
// deltaBody.
type entrySpans struct{ body, delta [2]int }

// position is the index of name in st.sorted, or -1; i is where it
// usually is (the same names as the last state's, at the same places).
func (st *typeSnap) position(i int, name string) int {
	if i < len(st.sorted) && st.sorted[i] == name {
		return i
	}
	if j, ok := slices.BinarySearch(st.sorted, name); ok {
		return j
	}
	return -1
}

// byName reports whether SotW responses of a type may carry some of its
// resources: secrets (those a request names) and route configurations
// (those that changed).
func byName(typeURL string) bool {
	return typeURL == resource.SecretType || typeURL == resource.RouteType
}

// appendEntry appends m, deterministically marshalled, as a resources
// entry: the resource's Any for a DiscoveryResponse, the Resource itself for
// a DeltaDiscoveryResponse.
// It marshals m in place, after its length (Size with the same options is
// the length MarshalAppend writes), rather than into a buffer of its own
// that would then be copied: a type's bodies are the whole type, twice.
func appendEntry(b []byte, m protobuf.Message) ([]byte, error) {
	opts := protobuf.MarshalOptions{Deterministic: true}
	n := opts.Size(m)
	b = protowire.AppendTag(b, resourcesField, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	start := len(b)
	b, err := opts.MarshalAppend(b, m)
	if err != nil {
		return nil, err
	}
	if len(b)-start != n {
		return nil, fmt.Errorf("marshalling a %s: %d bytes, but Size said %d", m.ProtoReflect().Descriptor().FullName(), len(b)-start, n)
	}
	return b, nil
}

// entrySize is the number of bytes appendEntry appends for m.
func entrySize(m protobuf.Message) int {
	n := protobuf.MarshalOptions{Deterministic: true}.Size(m)
	return protowire.SizeTag(resourcesField) + protowire.SizeBytes(n)
}

// resourcesField is the field number of DiscoveryResponse.resources and of
// DeltaDiscoveryResponse.resources.
const resourcesField = 2

func (st *typeSnap) get(name string) *discoveryv3.Resource {
	if st == nil {
		return nil
	}
	return st.resources[name]
}

// has reports whether the type holds a resource of that name.
func (st *typeSnap) has(name string) bool { return st.get(name) != nil }
