package server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"
)

const testKey = "app=gw"

// testSnapshot is a snapshot whose every served type holds the named
// resources, with content and version rev.
func testSnapshot(t *testing.T, rev string, names ...string) *snapshot {
	t.Helper()
	contents := map[string]string{}
	for _, n := range names {
		contents[n] = n + rev
	}
	return typedSnapshot(rev, func(string) map[string]string { return contents })
}

// typedSnapshot is a snapshot with, for every served type, the resources
// contents gives (name -> content), at version rev.
func typedSnapshot(rev string, contents func(typeURL string) map[string]string) *snapshot {
	s := &snapshot{served: &cache.Snapshot{}, names: map[string][]string{}}
	for _, typeURL := range typeURLs {
		var rs []types.Resource
		byName := contents(typeURL)
		for n, c := range byName {
			rs = append(rs, newWireResource(n, []byte(c)))
		}
		s.served.Resources[cache.GetResponseType(typeURL)] = cache.NewResources(rev, rs)
		s.names[typeURL] = slices.Sorted(maps.Keys(byName))
	}
	return s
}

func install(t *testing.T, c *caches, s *snapshot) {
	t.Helper()
	if err := c.set(context.Background(), testKey, s); err != nil {
		t.Fatal(err)
	}
}

func sotwRequest(typeURL, version, nonce string, names ...string) *discoveryv3.DiscoveryRequest {
	return &discoveryv3.DiscoveryRequest{TypeUrl: typeURL, VersionInfo: version, ResponseNonce: nonce, ResourceNames: names}
}

func routeRequest(version string, names ...string) *discoveryv3.DiscoveryRequest {
	return sotwRequest(resource.RouteType, version, "", names...)
}

func noAcked(string) map[string]bool { return nil }

// follow moves a stream to its group's current state, as ads.go does when
// the state changes.
func (s *sotwStream) follow() []*sotwOut { return s.changed(s.entry.state.Load()) }

// TestSotwStreamAnswers follows the SnapshotCache's rules in ADS mode.
func TestSotwStreamAnswers(t *testing.T) {
	tests := map[string]struct {
		req       *discoveryv3.DiscoveryRequest
		set       bool // a new snapshot ("v2") arrives after the request
		wantCount int
	}{
		"new client is answered at once":                 {req: routeRequest("", "a", "b"), wantCount: 1},
		"names in another order, repeated":               {req: routeRequest("", "b", "a", "b"), wantCount: 1},
		"current client waits":                           {req: routeRequest("v1", "a", "b"), wantCount: 0},
		"current client is answered by a new version":    {req: routeRequest("v1", "a", "b"), set: true, wantCount: 1},
		"a request naming a subset is not answered":      {req: routeRequest("", "a"), wantCount: 0},
		"nor on a new version":                           {req: routeRequest("v1", "a"), set: true, wantCount: 0},
		"names beyond the snapshot's are answered":       {req: routeRequest("", "a", "b", "c"), wantCount: 1},
		"an old client is answered":                      {req: routeRequest("v0", "a", "b"), wantCount: 1},
		"a wildcard client at the current version waits": {req: routeRequest("v1"), wantCount: 0},
		"an explicit wildcard is answered with all":      {req: routeRequest("", "*"), wantCount: 1},
		"an explicit wildcard and a name: all, once":     {req: routeRequest("", "*", "a"), wantCount: 1},
		"a wildcard client is answered by a new version": {req: routeRequest("v1", "*"), set: true, wantCount: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := newCaches()
			install(t, c, testSnapshot(t, "v1", "a", "b"))
			s := newSotwStream(c.entry(testKey), noAcked)
			var got []*sotwOut
			if o := s.request(tc.req); o != nil {
				got = append(got, o)
			}
			if tc.set {
				install(t, c, testSnapshot(t, "v2", "a", "b"))
				got = append(got, s.follow()...)
			}
			if len(got) != tc.wantCount {
				t.Fatalf("%d responses, want %d", len(got), tc.wantCount)
			}
			for _, o := range got {
				d := wire(t, o.resp)
				if len(d.GetResources()) != 2 || d.GetTypeUrl() != resource.RouteType {
					t.Errorf("response has %d resources of %s, want both routes", len(d.GetResources()), d.GetTypeUrl())
				}
			}
		})
	}
}

// TestSotwStreamsShare: the streams of a group send one set of resource
// bytes and share the set of names they ask for and hold; a type whose
// version is unchanged keeps its state across snapshots; each response is
// the stream's own message (its nonce is written into it).
func TestSotwStreamsShare(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a", "b"))
	var streams []*sotwStream
	for range 100 {
		s := newSotwStream(c.entry(testKey), noAcked)
		if o := s.request(routeRequest("v0", "b", "a")); o == nil {
			t.Fatal("no response to the first request")
		}
		if o := s.request(sotwRequest(resource.RouteType, "v1", "1", "a", "b")); o != nil {
			t.Fatal("a response to the ACK")
		}
		streams = append(streams, s)
	}
	first := streams[0].subs[routeIdx]
	for i, s := range streams {
		sub := s.subs[routeIdx]
		if sub.names != first.names || sub.held != first.names {
			t.Fatalf("stream %d keeps its own name sets", i)
		}
	}
	if n := c.entry(testKey).names.live(); n != 1 {
		t.Errorf("%d name sets interned for 100 streams asking the same names, want 1", n)
	}
	before := c.entry(testKey).state.Load().types[listenerIdx]
	next := testSnapshot(t, "v2", "a", "b")
	next.served.Resources[cache.GetResponseType(resource.ListenerType)] = testSnapshot(t, "v1", "a", "b").served.Resources[cache.GetResponseType(resource.ListenerType)]
	install(t, c, next)
	if c.entry(testKey).state.Load().types[listenerIdx] != before {
		t.Error("an unchanged type was rebuilt")
	}
	o0, o1 := streams[0].follow(), streams[1].follow()
	if len(o0) != 1 || len(o1) != 1 {
		t.Fatalf("responses: %d and %d, want one each", len(o0), len(o1))
	}
	if &o0[0].resp.ProtoReflect().GetUnknown()[0] != &o1[0].resp.ProtoReflect().GetUnknown()[0] {
		t.Error("the two proxies' responses do not share their resources")
	}
	if got := wire(t, o0[0].resp).GetResources(); len(got) != 2 || string(got[0].GetValue()) != "av2" {
		t.Errorf("resources on the wire: %v", got)
	}
	if o0[0].resp == o1[0].resp {
		t.Error("the two proxies share one DiscoveryResponse")
	}
}

// TestSotwStreamDiverges: a stream asking for other names than the rest of
// its group gets sets of its own, and still the right responses; the
// others keep sharing.
func TestSotwStreamDiverges(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a", "b"))
	shared := func() *sotwStream {
		s := newSotwStream(c.entry(testKey), noAcked)
		s.request(routeRequest("v1", "a", "b")) // resumed: holds a and b
		return s
	}
	s1, s2 := shared(), shared()
	odd := newSotwStream(c.entry(testKey), noAcked)
	if o := odd.request(routeRequest("", "a")); o != nil {
		t.Fatal("a request naming a subset was answered")
	}
	if odd.subs[routeIdx].names == s1.subs[routeIdx].names || s1.subs[routeIdx].names != s2.subs[routeIdx].names {
		t.Fatal("the diverging stream shares its names, or the others do not")
	}
	if n := c.entry(testKey).names.live(); n != 2 {
		t.Errorf("%d name sets interned, want 2", n)
	}
	// It asks for all: answered with both routes.
	o := odd.request(routeRequest("", "a", "b", "c"))
	if o == nil || len(wire(t, o.resp).GetResources()) != 2 {
		t.Fatalf("the diverging stream's full request: %v", o)
	}
	// It drops b: it holds a, lacks nothing, waits.
	if o := odd.request(sotwRequest(resource.RouteType, "v1", o.resp.GetNonce(), "a")); o != nil {
		t.Error("a request dropping a name was answered")
	}
	// It asks for b again: it no longer holds it, so it is answered.
	if o := odd.request(sotwRequest(resource.RouteType, "v1", "", "a", "b")); o != nil {
		t.Error("a stale request (no nonce after a response) was answered")
	}
	if o := odd.request(sotwRequest(resource.RouteType, "v1", "1", "a", "b")); o == nil {
		t.Error("a stream asking again for a name it dropped was not sent it")
	}
}

// TestSotwStreamTurnsWildcard: a stream that named every resource and turns
// to the wildcard holds the whole type; one that turns from the wildcard to
// names holds none of them (its record was the whole type), as
// go-control-plane had it.
func TestSotwStreamTurnsWildcard(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a", "b"))
	s := newSotwStream(c.entry(testKey), noAcked)
	o := s.request(routeRequest("", "a", "b"))
	if o == nil {
		t.Fatal("no response to the first request")
	}
	if o := s.request(sotwRequest(resource.RouteType, "v1", o.resp.GetNonce(), "*")); o != nil {
		t.Error("a stream holding every route was answered again when it turned to the wildcard")
	}
	w := newSotwStream(c.entry(testKey), noAcked)
	o = w.request(sotwRequest(resource.RouteType, "", "", "*"))
	if o == nil {
		t.Fatal("no response to the wildcard request")
	}
	if o := w.request(sotwRequest(resource.RouteType, "v1", o.resp.GetNonce(), "a", "b")); o == nil {
		t.Error("a stream turning from the wildcard to names was not answered")
	}
}

// TestSotwStreamNACK: a NACK claims the rejected version (callbacks.go), so
// the stream waits, and the next version reaches it.
func TestSotwStreamNACK(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a"))
	s := newSotwStream(c.entry(testKey), noAcked)
	o := s.request(sotwRequest(resource.ClusterType, "", ""))
	if o == nil {
		t.Fatal("no response to the first request")
	}
	nack := sotwRequest(resource.ClusterType, "", o.resp.GetNonce())
	nack.ErrorDetail = &rpcstatus.Status{Message: "rejected"}
	nack.VersionInfo = "v1" // what callbacks.sotwRequest makes of it
	if o := s.request(nack); o != nil {
		t.Fatal("the rejected version was sent back")
	}
	install(t, c, testSnapshot(t, "v2", "a"))
	if got := s.follow(); len(got) != 1 || got[0].resp.GetVersionInfo() != "v2" {
		t.Errorf("after a NACK, the next version sent %d responses", len(got))
	}
}

// TestSotwStreamSecrets: secrets are answered by name, in two steps, and a
// client resuming at the current version is sent only what it was not seen
// to ACK.
func TestSotwStreamSecrets(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "ca", "cert"))
	names := func(o *sotwOut) []string {
		var out []string
		for _, r := range wire(t, o.resp).GetResources() {
			out = append(out, string(r.GetValue()))
		}
		return out
	}
	s := newSotwStream(c.entry(testKey), noAcked)
	o := s.request(sotwRequest(resource.SecretType, "", "", "ca"))
	if o == nil || cmp.Diff([]string{"cav1"}, names(o)) != "" {
		t.Fatalf("first step: %v", o)
	}
	o = s.request(sotwRequest(resource.SecretType, "v1", o.resp.GetNonce(), "ca", "cert"))
	if o == nil || cmp.Diff([]string{"cav1", "certv1"}, names(o)) != "" || cmp.Diff([]string{"ca", "cert"}, o.names) != "" {
		t.Fatalf("second step: %v", o)
	}
	acked := func(v string) map[string]bool {
		if v == "v1" {
			return map[string]bool{"ca": true}
		}
		return nil
	}
	r := newSotwStream(c.entry(testKey), acked)
	o = r.request(sotwRequest(resource.SecretType, "v1", "", "ca", "cert"))
	if o == nil {
		t.Fatal("a resumed client lacking a secret was not answered")
	}
	r = newSotwStream(c.entry(testKey), acked)
	if o = r.request(sotwRequest(resource.SecretType, "v1", "", "ca")); o != nil {
		t.Error("a resumed client holding the secret it asks for was answered")
	}
}

// TestSotwStreamsInterleaved: many streams of a group, following the state
// in turns, each get one response per change.
func TestSotwStreamsInterleaved(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a"))
	var streams []*sotwStream
	for range 10 {
		s := newSotwStream(c.entry(testKey), noAcked)
		s.request(sotwRequest(resource.ListenerType, "v1", ""))
		streams = append(streams, s)
	}
	for v := 2; v <= 4; v++ {
		install(t, c, testSnapshot(t, fmt.Sprint("v", v), "a"))
		for i, s := range streams {
			got := s.follow()
			if len(got) != 1 {
				t.Fatalf("v%d, stream %d: %d responses, want 1", v, i, len(got))
			}
			if o := s.request(sotwRequest(resource.ListenerType, got[0].resp.GetVersionInfo(), got[0].resp.GetNonce())); o != nil {
				t.Fatalf("v%d, stream %d: the ACK was answered", v, i)
			}
		}
	}
}

// wire is the response as a client decodes it, sent through the server's
// codec.
func wire(t *testing.T, d *discoveryv3.DiscoveryResponse) *discoveryv3.DiscoveryResponse {
	t.Helper()
	codec := sharedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name)}
	data, err := codec.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	out := &discoveryv3.DiscoveryResponse{}
	if err := proto.Unmarshal(data.Materialize(), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSotwSubscribeQuickSum: a request naming what the last one did, in
// another order, keeps the stream's set; one of as many names with a
// repeat, or with another name, does not.
func TestSotwSubscribeQuickSum(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a", "b"))
	s := newSotwStream(c.entry(testKey), noAcked)
	if s.request(routeRequest("", "a", "b")) == nil {
		t.Fatal("no response to the first request")
	}
	sub := s.subs[routeIdx]
	first := sub.names
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"b", "a"}, []string{"a", "b"}},
		{[]string{"a", "a"}, []string{"a"}},
		{[]string{"a", "c"}, []string{"a", "c"}},
		{[]string{"b", "a"}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		sub.subscribe(tc.names, &s.entry.names, nil)
		if got := slices.Sorted(maps.Keys(sub.names.names)); !slices.Equal(got, tc.want) {
			t.Errorf("after a request naming %v the stream asks for %v, want %v", tc.names, got, tc.want)
		}
	}
	if sub.names != first {
		t.Error("the same names, asked again, are not the interned set")
	}
}
