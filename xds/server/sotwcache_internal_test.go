package server

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/server/labels"
)

var testGroup = map[string]string{"app": "gw"}

// testSnapshot is a snapshot whose every served type holds the named
// resources, with content and version rev.
func testSnapshot(t *testing.T, rev string, names ...string) *cache.Snapshot {
	t.Helper()
	s := &cache.Snapshot{}
	for _, typeURL := range sotwTypes {
		var rs []types.Resource
		for _, n := range names {
			rs = append(rs, newWireResource(n, []byte(n+rev)))
		}
		s.Resources[cache.GetResponseType(typeURL)] = cache.NewResources(rev, rs)
	}
	return s
}

func routeRequest(version string, names ...string) *cache.Request {
	return &cache.Request{
		Node:    &corev3.Node{Id: "n", Metadata: labels.Metadata(testGroup)},
		TypeUrl: resource.RouteType, VersionInfo: version, ResourceNames: names,
	}
}

// subscription is the stream's record for req: a client presenting a
// version was sent every name it asks for at that version.
func subscription(req *cache.Request) streamv3.Subscription {
	sub := streamv3.NewSotwSubscription(req.GetResourceNames(), false)
	if v := req.GetVersionInfo(); v != "" {
		sent := map[string]string{}
		for _, n := range req.GetResourceNames() {
			sent[n] = v
		}
		sub.SetReturnedResources(sent)
	}
	return sub
}

// received returns what ch holds without waiting.
func received(ch chan cache.Response) []cache.Response {
	var out []cache.Response
	for {
		select {
		case r := <-ch:
			out = append(out, r)
		default:
			return out
		}
	}
}

// TestSotwCacheAnswers follows the SnapshotCache's rules in ADS mode.
func TestSotwCacheAnswers(t *testing.T) {
	tests := map[string]struct {
		req       *cache.Request
		set       bool // a new snapshot ("v2") arrives after the watch
		fresh     bool // the stream was sent nothing yet
		wantCount int
	}{
		"new client is answered at once":              {req: routeRequest("", "a", "b"), wantCount: 1},
		"names in another order, repeated":            {req: routeRequest("", "b", "a", "b"), wantCount: 1},
		"current client waits":                        {req: routeRequest("v1", "a", "b"), wantCount: 0},
		"current client is answered by a new version": {req: routeRequest("v1", "a", "b"), set: true, wantCount: 1},
		"a request naming a subset is not answered":   {req: routeRequest("", "a"), wantCount: 0},
		"nor on a new version":                        {req: routeRequest("v1", "a"), set: true, wantCount: 0},
		"names beyond the snapshot's are answered":    {req: routeRequest("", "a", "b", "c"), wantCount: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := newSotwCache(groupHash{})
			if err := c.set(labelset.Key(testGroup), testSnapshot(t, "v1", "a", "b")); err != nil {
				t.Fatal(err)
			}
			ch := make(chan cache.Response, 8)
			sub := subscription(tc.req)
			if tc.fresh {
				sub = streamv3.NewSotwSubscription(tc.req.GetResourceNames(), false)
			}
			if _, err := c.CreateWatch(tc.req, sub, ch); err != nil {
				t.Fatal(err)
			}
			if tc.set {
				if err := c.set(labelset.Key(testGroup), testSnapshot(t, "v2", "a", "b")); err != nil {
					t.Fatal(err)
				}
			}
			got := received(ch)
			if len(got) != tc.wantCount {
				t.Fatalf("%d responses, want %d", len(got), tc.wantCount)
			}
			for _, r := range got {
				d := wire(t, r)
				if len(d.GetResources()) != 2 || d.GetTypeUrl() != resource.RouteType {
					t.Errorf("response has %d resources of %s, want both routes", len(d.GetResources()), d.GetTypeUrl())
				}
			}
		})
	}
}

// TestSotwCacheShares: the proxies of a group get one set of resources, each
// its own map of what it was sent; a type whose version is unchanged keeps
// its response across snapshots; a cancelled watch is not answered.
func TestSotwCacheShares(t *testing.T) {
	c := newSotwCache(groupHash{})
	key := labelset.Key(testGroup)
	if err := c.set(key, testSnapshot(t, "v1", "a", "b")); err != nil {
		t.Fatal(err)
	}
	var chans []chan cache.Response
	var cancels []func()
	for i := range 3 {
		req := routeRequest("v1", "a", "b")
		req.Node.Id = fmt.Sprint(i)
		ch := make(chan cache.Response, 8)
		cancel, err := c.CreateWatch(req, subscription(req), ch)
		if err != nil {
			t.Fatal(err)
		}
		chans, cancels = append(chans, ch), append(cancels, cancel)
	}
	before := c.groups[key].types[resource.ListenerType]
	cancels[2]()
	next := testSnapshot(t, "v2", "a", "b")
	next.Resources[cache.GetResponseType(resource.ListenerType)] = testSnapshot(t, "v1", "a", "b").Resources[cache.GetResponseType(resource.ListenerType)]
	if err := c.set(key, next); err != nil {
		t.Fatal(err)
	}
	if c.groups[key].types[resource.ListenerType] != before {
		t.Error("an unchanged type was rebuilt")
	}
	if n := len(received(chans[2])); n != 0 {
		t.Errorf("a cancelled watch got %d responses", n)
	}
	r0, r1 := received(chans[0]), received(chans[1])
	if len(r0) != 1 || len(r1) != 1 {
		t.Fatalf("responses: %d and %d, want one each", len(r0), len(r1))
	}
	d0, _ := r0[0].GetDiscoveryResponse()
	d1, _ := r1[0].GetDiscoveryResponse()
	if &d0.ProtoReflect().GetUnknown()[0] != &d1.ProtoReflect().GetUnknown()[0] {
		t.Error("the two proxies' responses do not share their resources")
	}
	if got := wire(t, r0[0]).GetResources(); len(got) != 2 || string(got[0].GetValue()) != "av2" {
		t.Errorf("resources on the wire: %v", got)
	}
	if d0 == d1 {
		t.Error("the two proxies share one DiscoveryResponse: the server writes each stream's nonce into it")
	}
	m0, m1 := r0[0].GetReturnedResources(), r1[0].GetReturnedResources()
	delete(m0, "a")
	if want := []string{"a", "b"}; !slices.Equal(slices.Sorted(maps.Keys(m1)), want) {
		t.Errorf("editing one stream's returned resources changed another's: %v", m1)
	}
}

// wire is the response as a client decodes it, sent through the server's
// codec.
func wire(t *testing.T, r cache.Response) *discoveryv3.DiscoveryResponse {
	t.Helper()
	d, err := r.GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	codec := sharedCodec{encoding.GetCodecV2(grpcproto.Name)}
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

// TestSharedCodec: the codec sends a shared response's bytes exactly as
// gRPC's own codec would, without copying them, and leaves other messages
// to gRPC's codec.
func TestSharedCodec(t *testing.T) {
	st, err := newSotwType(resource.RouteType, testSnapshot(t, "v1", "a", "b").Resources[cache.GetResponseType(resource.RouteType)])
	if err != nil {
		t.Fatal(err)
	}
	d, err := (&sotwResponse{req: routeRequest("v0", "a", "b"), st: st}).GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	d.Nonce = "7"
	codec := sharedCodec{encoding.GetCodecV2(grpcproto.Name)}
	for name, m := range map[string]proto.Message{"shared response": d, "request": routeRequest("v1", "a")} {
		t.Run(name, func(t *testing.T) {
			got, err := codec.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			want, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Materialize()) != string(want) {
				t.Error("the codec's bytes differ from proto.Marshal's")
			}
		})
	}
	data, err := codec.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 2 || &data[1].ReadOnlyData()[0] != &st.body[0] {
		t.Error("the shared resources were copied")
	}
}

// TestSotwCacheWildcardRecord: a stream asking for a whole type keeps one
// entry, not a map of every name, and is answered exactly when the version
// changes.
func TestSotwCacheWildcardRecord(t *testing.T) {
	c := newSotwCache(groupHash{})
	key := labelset.Key(testGroup)
	if err := c.set(key, testSnapshot(t, "v1", "a", "b")); err != nil {
		t.Fatal(err)
	}
	req := &cache.Request{Node: &corev3.Node{Metadata: labels.Metadata(testGroup)}, TypeUrl: resource.ClusterType}
	sub := streamv3.NewSotwSubscription(nil, true)
	ch := make(chan cache.Response, 8)
	watch := func() {
		t.Helper()
		if _, err := c.CreateWatch(req, sub, ch); err != nil {
			t.Fatal(err)
		}
	}
	watch()
	got := received(ch)
	if len(got) != 1 {
		t.Fatalf("%d responses to the first request, want 1", len(got))
	}
	record := got[0].GetReturnedResources()
	if len(record) != 1 {
		t.Errorf("the stream keeps %d entries, want 1", len(record))
	}
	sub.SetReturnedResources(record)
	sub.SetResourceSubscription(nil) // the ACK names nothing either
	req = &cache.Request{Node: req.Node, TypeUrl: resource.ClusterType, VersionInfo: "v1", ResponseNonce: "1"}
	watch()
	if n := len(received(ch)); n != 0 {
		t.Errorf("%d responses to the ACK, want none", n)
	}
	if err := c.set(key, testSnapshot(t, "v2", "a", "b")); err != nil {
		t.Fatal(err)
	}
	if n := len(received(ch)); n != 1 {
		t.Errorf("%d responses to a new version, want 1", n)
	}
}
