package server

import (
	"maps"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/server/labels"
)

// routeSnapshot is a snapshot whose routes have the given contents by name
// (the other types are empty).
func routeSnapshot(version string, routes map[string]string) *cache.Snapshot {
	s := &cache.Snapshot{}
	for _, typeURL := range sotwTypes {
		var rs []types.Resource
		if typeURL == resource.RouteType {
			for n, content := range routes {
				rs = append(rs, newWireResource(n, []byte(content)))
			}
		}
		s.Resources[cache.GetResponseType(typeURL)] = cache.NewResources(version, rs)
	}
	return s
}

// deltaStream is one stream's routes subscription, as go-control-plane's
// delta server keeps it.
type deltaStream struct {
	sub streamv3.Subscription
	ch  chan cache.DeltaResponse
}

// newDeltaStream subscribes to names, or to everything (legacy wildcard, as
// Envoy's first request for listeners and clusters).
func newDeltaStream(names ...string) *deltaStream {
	return &deltaStream{sub: streamv3.NewDeltaSubscription(names, nil, nil, len(names) == 0), ch: make(chan cache.DeltaResponse, 8)}
}

func (s *deltaStream) watch(t *testing.T, c *deltaCache, nonce string) {
	t.Helper()
	req := &cache.DeltaRequest{Node: &corev3.Node{Metadata: labels.Metadata(testGroup)}, TypeUrl: resource.RouteType, ResponseNonce: nonce}
	if _, err := c.CreateDeltaWatch(req, s.sub, s.ch); err != nil {
		t.Fatal(err)
	}
}

// take returns the names sent and removed by the responses waiting, and
// records what was sent as the delta server does.
func (s *deltaStream) take(t *testing.T) (sent, removed []string) {
	t.Helper()
	for {
		select {
		case r := <-s.ch:
			d, err := r.GetDeltaDiscoveryResponse()
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range d.GetResources() {
				sent = append(sent, res.GetName())
				if want := cache.HashResource(res.GetResource().GetValue()); res.GetVersion() != want {
					t.Errorf("%s: version %s, want the SnapshotCache's %s", res.GetName(), res.GetVersion(), want)
				}
			}
			removed = append(removed, d.GetRemovedResources()...)
			s.sub.SetReturnedResources(r.GetReturnedResources())
		default:
			return sent, removed
		}
	}
}

// TestDeltaCache follows streams of one group through snapshots.
func TestDeltaCache(t *testing.T) {
	c := newDeltaCache(groupHash{})
	key := labelset.Key(testGroup)
	set := func(version string, routes map[string]string) {
		t.Helper()
		if err := c.set(key, routeSnapshot(version, routes)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, s *deltaStream, wantSent, wantRemoved []string) {
		t.Helper()
		sent, removed := s.take(t)
		if d := cmp.Diff(wantSent, sent); d != "" {
			t.Errorf("%s: sent (-want +got):\n%s", what, d)
		}
		if d := cmp.Diff(wantRemoved, removed); d != "" {
			t.Errorf("%s: removed (-want +got):\n%s", what, d)
		}
	}
	set("v1", map[string]string{"a": "a1", "b": "b1", "c": "c1"})
	wild, ab, c1 := newDeltaStream(), newDeltaStream("a", "b"), newDeltaStream("c")
	for _, s := range []*deltaStream{wild, ab, c1} {
		s.watch(t, c, "")
	}
	check("first wildcard request", wild, []string{"a", "b", "c"}, nil)
	check("first named request", ab, []string{"a", "b"}, nil)
	check("first named request", c1, []string{"c"}, nil)
	for _, s := range []*deltaStream{wild, ab, c1} {
		s.watch(t, c, "1") // the ACKs; nothing is missing
	}
	check("ACK", wild, nil, nil)

	set("v2", map[string]string{"a": "a2", "b": "b1", "c": "c1"})
	check("a changed: wildcard", wild, []string{"a"}, nil)
	check("a changed: subscribed", ab, []string{"a"}, nil)
	check("a changed: not subscribed", c1, nil, nil)
	wild.watch(t, c, "2")
	ab.watch(t, c, "2")

	set("v3", map[string]string{"a": "a2", "b": "b1", "c": "c3", "d": "d1"})
	check("c changed, d added: wildcard", wild, []string{"c", "d"}, nil)
	check("c changed: not subscribed", ab, nil, nil)
	check("c changed: subscribed, watch carried over from v1", c1, []string{"c"}, nil)
	wild.watch(t, c, "3")
	c1.watch(t, c, "2")

	set("v4", map[string]string{"a": "a2", "b": "b1", "d": "d1"})
	check("c removed: wildcard", wild, nil, []string{"c"})
	check("c removed: subscribed", c1, nil, []string{"c"})
	check("c removed: not subscribed", ab, nil, nil)

	// What the streams hold is the snapshot, as a full comparison finds.
	for name, s := range map[string]*deltaStream{"wildcard": wild, "a,b": ab, "c": c1} {
		full := &deltaResponse{req: &cache.DeltaRequest{TypeUrl: resource.RouteType}, sub: s.sub, st: c.groups[key].types[resource.RouteType]}
		if d, _ := full.GetDeltaDiscoveryResponse(); len(d.GetResources()) > 0 || len(d.GetRemovedResources()) > 0 {
			t.Errorf("%s: stream differs from the snapshot: sent %d, removed %v", name, len(d.GetResources()), d.GetRemovedResources())
		}
		if got := slices.Sorted(maps.Keys(s.sub.ReturnedResources())); name == "wildcard" && !slices.Equal(got, []string{"a", "b", "d"}) {
			t.Errorf("wildcard stream holds %v", got)
		}
	}
}

// TestDeltaCacheResumeBeforeSnapshot: a stream that resumes with
// initial_resource_versions before the group has a snapshot is sent, once
// the snapshot comes, only what it lacks.
func TestDeltaCacheResumeBeforeSnapshot(t *testing.T) {
	c := newDeltaCache(groupHash{})
	held := map[string]string{"a": cache.HashResource([]byte("a1")), "gone": "x"}
	s := &deltaStream{sub: streamv3.NewDeltaSubscription(nil, nil, held, true), ch: make(chan cache.DeltaResponse, 8)}
	req := &cache.DeltaRequest{Node: &corev3.Node{Metadata: labels.Metadata(testGroup)}, TypeUrl: resource.RouteType, ResponseNonce: "1"}
	if _, err := c.CreateDeltaWatch(req, s.sub, s.ch); err != nil {
		t.Fatal(err)
	}
	if err := c.set(labelset.Key(testGroup), routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1"})); err != nil {
		t.Fatal(err)
	}
	sent, removed := s.take(t)
	if d := cmp.Diff([]string{"b"}, sent); d != "" {
		t.Errorf("sent (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"gone"}, removed); d != "" {
		t.Errorf("removed (-want +got):\n%s", d)
	}
}

// TestDeltaCacheResumeHoldingAll: a stream that resumed before the first
// snapshot holding all of it is sent nothing.
func TestDeltaCacheResumeHoldingAll(t *testing.T) {
	c := newDeltaCache(groupHash{})
	held := map[string]string{"a": cache.HashResource([]byte("a1"))}
	s := &deltaStream{sub: streamv3.NewDeltaSubscription(nil, nil, held, true), ch: make(chan cache.DeltaResponse, 8)}
	req := &cache.DeltaRequest{Node: &corev3.Node{Metadata: labels.Metadata(testGroup)}, TypeUrl: resource.RouteType, ResponseNonce: "1"}
	if _, err := c.CreateDeltaWatch(req, s.sub, s.ch); err != nil {
		t.Fatal(err)
	}
	if err := c.set(labelset.Key(testGroup), routeSnapshot("v1", map[string]string{"a": "a1"})); err != nil {
		t.Fatal(err)
	}
	if n := len(s.ch); n != 0 {
		t.Errorf("%d responses, want none", n)
	}
	// The watch stays, in step with v1: a change reaches it.
	if err := c.set(labelset.Key(testGroup), routeSnapshot("v2", map[string]string{"a": "a2"})); err != nil {
		t.Fatal(err)
	}
	if sent, _ := s.take(t); !slices.Equal(sent, []string{"a"}) {
		t.Errorf("sent %v, want [a]", sent)
	}
}
