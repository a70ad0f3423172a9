package server

import (
	"maps"
	"slices"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// routeSnapshot is a snapshot whose routes have the given contents by name
// (the other types are empty).
func routeSnapshot(version string, routes map[string]string) *snapshot {
	return typedSnapshot(version, func(typeURL string) map[string]string {
		if typeURL == resource.RouteType {
			return routes
		}
		return nil
	})
}

// deltaRoutes is one stream's routes subscription, and its first request.
type deltaRoutes struct {
	s   *deltaStream
	out []*discoveryv3.DeltaDiscoveryResponse
}

// newDeltaRoutes subscribes to names, or to everything (legacy wildcard, as
// Envoy's first request for listeners and clusters), with the versions the
// client holds.
func newDeltaRoutes(c *caches, held map[string]string, names ...string) *deltaRoutes {
	d := &deltaRoutes{s: newDeltaStream(c.entry(testKey))}
	d.request(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.RouteType, ResourceNamesSubscribe: names, InitialResourceVersions: held})
	return d
}

func (d *deltaRoutes) request(req *discoveryv3.DeltaDiscoveryRequest) {
	if req.TypeUrl == "" {
		req.TypeUrl = resource.RouteType
	}
	if r := d.s.request(req); r != nil {
		d.out = append(d.out, r)
	}
}

// ack answers the last response.
func (d *deltaRoutes) ack() { d.request(&discoveryv3.DeltaDiscoveryRequest{ResponseNonce: "x"}) }

// take follows the group's state and returns the names sent and removed
// since the last take.
func (d *deltaRoutes) take(t *testing.T) (sent, removed []string) {
	t.Helper()
	d.out = append(d.out, d.s.changed(d.s.entry.state.Load())...)
	for _, r := range d.out {
		r = deltaWire(t, r)
		for _, res := range r.GetResources() {
			sent = append(sent, res.GetName())
			if want := cache.HashResource(res.GetResource().GetValue()); res.GetVersion() != want {
				t.Errorf("%s: version %s, want the SnapshotCache's %s", res.GetName(), res.GetVersion(), want)
			}
		}
		removed = append(removed, r.GetRemovedResources()...)
	}
	d.out = nil
	return sent, removed
}

// deltaWire is the response as a client decodes it, sent through the
// server's codec.
func deltaWire(t *testing.T, d *discoveryv3.DeltaDiscoveryResponse) *discoveryv3.DeltaDiscoveryResponse {
	t.Helper()
	data, err := sharedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name)}.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	out := &discoveryv3.DeltaDiscoveryResponse{}
	if err := proto.Unmarshal(data.Materialize(), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeltaWholeTypeShared: a delta response carrying every resource of the
// type sends the type's shared bytes; one carrying some, its resources.
func TestDeltaWholeTypeShared(t *testing.T) {
	c := newCaches()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1"}))
	st := c.entry(testKey).state.Load().types[routeIdx]
	whole := newDeltaStream(c.entry(testKey)).request(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.RouteType})
	data, err := sharedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name)}.Marshal(whole)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 2 || &data[1].ReadOnlyData()[0] != &st.deltaBody[0] {
		t.Error("the whole type's resources were not sent as the shared bytes")
	}
	want := &discoveryv3.DeltaDiscoveryResponse{
		Resources: []*discoveryv3.Resource{st.resources["a"], st.resources["b"]}, TypeUrl: resource.RouteType,
		SystemVersionInfo: "v1", Nonce: "1",
	}
	if d := cmp.Diff(want, deltaWire(t, whole), protocmp.Transform()); d != "" {
		t.Errorf("on the wire (-want +got):\n%s", d)
	}
	some := newDeltaStream(c.entry(testKey)).request(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.RouteType, ResourceNamesSubscribe: []string{"a"}})
	if len(some.GetResources()) != 1 || len(some.ProtoReflect().GetUnknown()) != 0 {
		t.Errorf("a response of one resource of two: %v", some)
	}
	// A type of one resource (one listener of every host, say) is whole too.
	install(t, c, routeSnapshot("v2", map[string]string{"a": "a2"}))
	one := newDeltaStream(c.entry(testKey)).request(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.RouteType})
	if len(one.GetResources()) != 0 || len(one.ProtoReflect().GetUnknown()) == 0 {
		t.Error("the one resource of a type was not sent as the shared bytes")
	}
}

// TestDeltaStreams follows streams of one group through snapshots.
func TestDeltaStreams(t *testing.T) {
	c := newCaches()
	set := func(version string, routes map[string]string) {
		t.Helper()
		install(t, c, routeSnapshot(version, routes))
	}
	check := func(what string, s *deltaRoutes, wantSent, wantRemoved []string) {
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
	wild, ab, c1 := newDeltaRoutes(c, nil), newDeltaRoutes(c, nil, "a", "b"), newDeltaRoutes(c, nil, "c")
	check("first wildcard request", wild, []string{"a", "b", "c"}, nil)
	check("first named request", ab, []string{"a", "b"}, nil)
	check("first named request", c1, []string{"c"}, nil)
	for _, s := range []*deltaRoutes{wild, ab, c1} {
		s.ack()
	}
	check("ACK", wild, nil, nil)

	set("v2", map[string]string{"a": "a2", "b": "b1", "c": "c1"})
	check("a changed: wildcard", wild, []string{"a"}, nil)
	check("a changed: subscribed", ab, []string{"a"}, nil)
	check("a changed: not subscribed", c1, nil, nil)
	wild.ack()
	ab.ack()

	set("v3", map[string]string{"a": "a2", "b": "b1", "c": "c3", "d": "d1"})
	check("c changed, d added: wildcard", wild, []string{"c", "d"}, nil)
	check("c changed: not subscribed", ab, nil, nil)
	check("c changed: subscribed, in step since v1", c1, []string{"c"}, nil)
	wild.ack()
	c1.ack()

	set("v4", map[string]string{"a": "a2", "b": "b1", "d": "d1"})
	check("c removed: wildcard", wild, nil, []string{"c"})
	check("c removed: subscribed", c1, nil, []string{"c"})
	check("c removed: not subscribed", ab, nil, nil)

	// What the streams hold is the snapshot, as a full comparison finds.
	st := c.entry(testKey).state.Load().types[routeIdx]
	for name, s := range map[string]*deltaRoutes{"wildcard": wild, "a,b": ab, "c": c1} {
		sub := s.s.subs[routeIdx]
		if sub.own != nil || sub.base != st {
			t.Errorf("%s: the stream keeps a record of its own", name)
		}
		full := &deltaSub{wildcard: sub.wildcard, names: sub.names, own: sub.record()}
		if res, removed := full.diff(st); len(res) > 0 || len(removed) > 0 {
			t.Errorf("%s: stream differs from the snapshot: sent %d, removed %v", name, len(res), removed)
		}
		if got := slices.Sorted(maps.Keys(sub.record())); name == "wildcard" && !slices.Equal(got, []string{"a", "b", "d"}) {
			t.Errorf("wildcard stream holds %v", got)
		}
	}
}

// TestDeltaStreamsShare: 100 streams subscribing to the same names share
// one set, and hold the group's state, not a map each.
func TestDeltaStreamsShare(t *testing.T) {
	c := newCaches()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1"}))
	var streams []*deltaRoutes
	for range 100 {
		s := newDeltaRoutes(c, nil, "b", "a")
		if sent, _ := s.take(t); len(sent) != 2 {
			t.Fatalf("sent %v", sent)
		}
		s.ack()
		streams = append(streams, s)
	}
	st := c.entry(testKey).state.Load().types[routeIdx]
	for i, s := range streams {
		sub := s.s.subs[routeIdx]
		if sub.names != streams[0].s.subs[routeIdx].names || sub.own != nil || sub.base != st {
			t.Fatalf("stream %d keeps a record of its own", i)
		}
	}
	if n := c.entry(testKey).names.live(); n != 1 {
		t.Errorf("%d name sets interned, want 1", n)
	}
}

// TestDeltaStreamDiverges: a stream that subscribes to more names is sent
// just them and shares the set of the streams that did the same; one that
// unsubscribes a name it holds by wildcard keeps a map of its own until its
// next response, and gets the right responses.
func TestDeltaStreamDiverges(t *testing.T) {
	c := newCaches()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1", "c": "c1"}))
	one, two := newDeltaRoutes(c, nil, "a"), newDeltaRoutes(c, nil, "a")
	one.take(t)
	two.take(t)
	for _, s := range []*deltaRoutes{one, two} {
		s.request(&discoveryv3.DeltaDiscoveryRequest{ResponseNonce: "1", ResourceNamesSubscribe: []string{"b"}})
		if sent, _ := s.take(t); !slices.Equal(sent, []string{"b"}) {
			t.Errorf("a new subscription sent %v, want [b]", sent)
		}
	}
	if one.s.subs[routeIdx].names != two.s.subs[routeIdx].names || one.s.subs[routeIdx].own != nil {
		t.Error("two streams subscribing alike do not share their names")
	}
	wild := newDeltaRoutes(c, nil)
	wild.take(t)
	wild.request(&discoveryv3.DeltaDiscoveryRequest{ResponseNonce: "1", ResourceNamesSubscribe: []string{"a"}})
	wild.request(&discoveryv3.DeltaDiscoveryRequest{ResponseNonce: "1", ResourceNamesUnsubscribe: []string{"a"}})
	if sent, _ := wild.take(t); !slices.Equal(sent, []string{"a"}) {
		t.Errorf("sent %v, want [a] again (go-control-plane's rule)", sent)
	}
	if sub := wild.s.subs[routeIdx]; sub.own != nil || sub.base == nil {
		t.Error("the stream keeps its own record after a response")
	}
	// A stream resuming with versions of its own keeps them while nothing
	// is sent, then follows the group.
	held := map[string]string{"a": cache.HashResource([]byte("a1")), "b": "old"}
	named := newDeltaRoutes(c, held, "a")
	if sent, _ := named.take(t); len(sent) != 0 {
		t.Errorf("a resumed stream holding what it asks for was sent %v", sent)
	}
	if named.s.subs[routeIdx].own == nil {
		t.Fatal("the resumed stream's versions were dropped")
	}
	named.request(&discoveryv3.DeltaDiscoveryRequest{ResponseNonce: "1", ResourceNamesSubscribe: []string{"b"}})
	if sent, _ := named.take(t); !slices.Equal(sent, []string{"b"}) {
		t.Errorf("subscribing to a name held at another version sent %v, want [b]", sent)
	}
	named.ack()
	install(t, c, routeSnapshot("v2", map[string]string{"a": "a2", "b": "b1", "c": "c1"}))
	if sent, _ := named.take(t); !slices.Equal(sent, []string{"a"}) {
		t.Errorf("after the change: sent %v, want [a]", sent)
	}
}

// TestDeltaStreamResumeBeforeSnapshot: a stream that resumes with
// initial_resource_versions before the group has a snapshot is sent, once
// the snapshot comes, only what it lacks.
func TestDeltaStreamResumeBeforeSnapshot(t *testing.T) {
	c := newCaches()
	s := newDeltaRoutes(c, map[string]string{"a": cache.HashResource([]byte("a1")), "gone": "x"})
	s.ack()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1"}))
	sent, removed := s.take(t)
	if d := cmp.Diff([]string{"b"}, sent); d != "" {
		t.Errorf("sent (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"gone"}, removed); d != "" {
		t.Errorf("removed (-want +got):\n%s", d)
	}
}

// TestDeltaStreamResumeHoldingAll: a stream that resumed before the first
// snapshot holding all of it is sent nothing, and stays in step.
func TestDeltaStreamResumeHoldingAll(t *testing.T) {
	c := newCaches()
	s := newDeltaRoutes(c, map[string]string{"a": cache.HashResource([]byte("a1"))})
	s.take(t)
	s.ack()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1"}))
	if sent, removed := s.take(t); len(sent)+len(removed) != 0 {
		t.Errorf("sent %v, removed %v; want nothing", sent, removed)
	}
	if s.s.subs[routeIdx].own != nil {
		t.Error("a stream holding exactly the group's state keeps a map of its own")
	}
	install(t, c, routeSnapshot("v2", map[string]string{"a": "a2"}))
	if sent, _ := s.take(t); !slices.Equal(sent, []string{"a"}) {
		t.Errorf("sent %v, want [a]", sent)
	}
}

// TestDeltaStreamReconnectShares: proxies reconnecting at the current
// versions (Envoy lists them all in its first request) are sent nothing and
// keep no map of their own: they share the group's state and name set.
func TestDeltaStreamReconnectShares(t *testing.T) {
	c := newCaches()
	install(t, c, routeSnapshot("v1", map[string]string{"a": "a1", "b": "b1"}))
	held := map[string]string{"a": cache.HashResource([]byte("a1")), "b": cache.HashResource([]byte("b1"))}
	var subs []*deltaSub
	for range 10 {
		s := newDeltaRoutes(c, held, "a", "b")
		if sent, removed := s.take(t); len(sent)+len(removed) != 0 {
			t.Fatalf("sent %v, removed %v; want nothing", sent, removed)
		}
		subs = append(subs, s.s.subs[routeIdx])
	}
	for i, sub := range subs {
		if sub.own != nil || sub.names != subs[0].names {
			t.Fatalf("stream %d keeps a record of its own", i)
		}
	}
}
