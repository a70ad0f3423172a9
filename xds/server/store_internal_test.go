package server

import (
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
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
