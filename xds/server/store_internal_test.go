package server

import (
	"maps"
	"slices"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"
)

// TestClearForgetsTheGroup: freeing a group (groups.free) must drop it from
// the caches, or they would keep each freed group's encoded responses and
// the memory would grow with every label set ever seen; a stream still
// holding the group's entry is woken.
func TestClearForgetsTheGroup(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a"))
	woken := c.entry(testKey).state.Load().changed
	c.clear(testKey)
	if _, ok := c.groups[testKey]; ok {
		t.Error("the caches still hold the freed group")
	}
	select {
	case <-woken:
	default:
		t.Error("clearing a group did not wake its streams")
	}
}

// TestOldStatesAreDropped: a type's state refers to the one it replaced,
// for streams that held it, but not to older ones, so reloads do not
// chain every state ever served.
func TestOldStatesAreDropped(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a"))
	v1 := c.entry(testKey).state.Load().types[routeIdx]
	install(t, c, testSnapshot(t, "v2", "a"))
	v2 := c.entry(testKey).state.Load().types[routeIdx]
	install(t, c, testSnapshot(t, "v3", "a"))
	v3 := c.entry(testKey).state.Load().types[routeIdx]
	if v3.prev.Load() != v2 || v2.prev.Load() != nil || v1.prev.Load() != nil {
		t.Error("the states chain beyond the one before")
	}
}

// TestSharedCodec: the codec sends a shared response's bytes exactly as
// gRPC's own codec would, without copying them, and leaves other messages
// to gRPC's codec.
func TestSharedCodec(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a", "b"))
	st := c.entry(testKey).state.Load().types[routeIdx]
	s := newSotwStream(c.entry(testKey), noAcked)
	o := s.request(routeRequest("v0", "a", "b"))
	if o == nil {
		t.Fatal("no response")
	}
	d := o.resp
	codec := sharedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name)}
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

// TestSotwWildcardRecord: a stream asking for a whole type keeps no set of
// names, and is answered exactly when the version changes.
func TestSotwWildcardRecord(t *testing.T) {
	c := newCaches()
	install(t, c, testSnapshot(t, "v1", "a", "b"))
	s := newSotwStream(c.entry(testKey), noAcked)
	o := s.request(sotwRequest(resource.ClusterType, "", ""))
	if o == nil {
		t.Fatal("no response to the first request")
	}
	if sub := s.subs[clusterIdx]; !sub.wildcard || sub.names != emptyNames || sub.allAt != "v1" {
		t.Errorf("the stream's record: wildcard %v, %d names, at %q", sub.wildcard, sub.names.len(), sub.allAt)
	}
	if o := s.request(sotwRequest(resource.ClusterType, "v1", o.resp.GetNonce())); o != nil {
		t.Error("the ACK was answered")
	}
	install(t, c, testSnapshot(t, "v2", "a", "b"))
	if n := len(s.follow()); n != 1 {
		t.Errorf("%d responses to a new version, want 1", n)
	}
}

// TestTypeSnapCopiesUnchangedEntries: a type's state made from the last one
// (unchanged resources' entries copied from its bodies) holds the same bytes
// as one made afresh, when resources changed, moved (a name added before
// them), were added and were removed.
func TestTypeSnapCopiesUnchangedEntries(t *testing.T) {
	state := func(prev *typeSnap, contents map[string]string) *typeSnap {
		t.Helper()
		var rs []types.Resource
		for n, c := range contents {
			rs = append(rs, newWireResource(n, []byte(c)))
		}
		st, err := newTypeSnap(resource.RouteType, cache.NewResources("v", rs), slices.Sorted(maps.Keys(contents)), prev)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	first := state(nil, map[string]string{"b": "b1", "c": "c1", "d": "d1", "e": "e1"})
	next := map[string]string{"a": "a1", "b": "b1", "c": "c2", "e": "e1", "f": "f1"}
	got, want := state(first, next), state(nil, next)
	if string(got.body) != string(want.body) {
		t.Error("body differs from one made afresh")
	}
	if string(got.deltaBody) != string(want.deltaBody) {
		t.Error("deltaBody differs from one made afresh")
	}
	for name, w := range want.entries {
		if string(got.entries[name]) != string(w) {
			t.Errorf("entry %q differs from one made afresh", name)
		}
	}
	if d := cmp.Diff([]string{"a", "c", "d", "f"}, got.changed); d != "" {
		t.Errorf("changed (-want +got):\n%s", d)
	}
}
