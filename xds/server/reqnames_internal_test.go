package server

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// requestRecords is a DiscoveryRequest written record by record, so that a
// test can order, split and spoil them as a peer may.
type requestRecords struct {
	names  [][]byte // each a whole record of field 3
	others [][]byte // the other fields' records
}

func nameRecord(name string) []byte {
	b := protowire.AppendTag(nil, 3, protowire.BytesType)
	return protowire.AppendString(b, name)
}

// randomRequest writes a SotW request naming names; with delta, a delta
// request subscribing to them.
func randomRequest(r *rand.Rand, names []string) requestRecords {
	return randomKindRequest(r, names, false)
}

func randomKindRequest(r *rand.Rand, names []string, delta bool) requestRecords {
	var rr requestRecords
	for _, n := range names {
		rr.names = append(rr.names, nameRecord(n))
	}
	if r.IntN(8) == 0 { // field 3 as a varint: proto.Unmarshal keeps it as unknown
		rr.names = append(rr.names, protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 1))
	}
	add := func(m proto.Message) { // m's records, marshalled apart
		b, err := proto.Marshal(m)
		if err != nil {
			panic(err)
		}
		for len(b) > 0 {
			_, _, n := protowire.ConsumeField(b)
			rr.others = append(rr.others, b[:n])
			b = b[n:]
		}
	}
	const routes = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	node := &corev3.Node{Id: fmt.Sprint("node-", r.IntN(3)), Cluster: "gw"}
	rejected := &status.Status{Code: 3, Message: "rejected"}
	if delta {
		add(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: routes, ResponseNonce: fmt.Sprint(r.IntN(5)),
			ResourceNamesUnsubscribe: []string{fmt.Sprint("gone-", r.IntN(3))}})
		if r.IntN(2) == 0 {
			add(&discoveryv3.DeltaDiscoveryRequest{Node: node, InitialResourceVersions: map[string]string{"a": "1", "b": "2"}})
		}
		if r.IntN(4) == 0 {
			add(&discoveryv3.DeltaDiscoveryRequest{ErrorDetail: rejected})
		}
	} else {
		add(&discoveryv3.DiscoveryRequest{VersionInfo: fmt.Sprint("v", r.IntN(3)), TypeUrl: routes, ResponseNonce: fmt.Sprint(r.IntN(5))})
		if r.IntN(2) == 0 {
			add(&discoveryv3.DiscoveryRequest{Node: node})
		}
		if r.IntN(4) == 0 {
			add(&discoveryv3.DiscoveryRequest{ErrorDetail: rejected})
		}
	}
	if r.IntN(4) == 0 { // a field this version does not know
		rr.others = append(rr.others, protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7))
	}
	return rr
}

// bytes lays the records out: the names together at position at among the
// other records, or, with apart, the last name after the other records.
func (rr requestRecords) bytes(at int, apart bool) []byte {
	at = min(at, len(rr.others))
	var b []byte
	for _, o := range rr.others[:at] {
		b = append(b, o...)
	}
	names := rr.names
	if apart && len(names) > 1 {
		names = names[:len(names)-1]
	}
	for _, n := range names {
		b = append(b, n...)
	}
	for _, o := range rr.others[at:] {
		b = append(b, o...)
	}
	if apart && len(rr.names) > 1 {
		b = append(b, rr.names[len(rr.names)-1]...)
	}
	return b
}

func manyNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%04d.example.com:443", prefix, i)
	}
	return names
}

// checkDecodes decodes b, a SotW request, through rn and through
// proto.Unmarshal, and fails t unless the two agree: both errors, or the
// same message.
func checkDecodes(t *testing.T, rn *requestNames, b []byte, what string) *discoveryv3.DiscoveryRequest {
	t.Helper()
	got := &discoveryv3.DiscoveryRequest{}
	if !decodesAsProto(t, rn, b, decodeTarget{got, &got.ResourceNames}, what) {
		return nil
	}
	return got
}

// checkDeltaDecodes is checkDecodes for a delta request.
func checkDeltaDecodes(t *testing.T, rn *requestNames, b []byte, what string) *discoveryv3.DeltaDiscoveryRequest {
	t.Helper()
	got := &discoveryv3.DeltaDiscoveryRequest{}
	if !decodesAsProto(t, rn, b, decodeTarget{got, &got.ResourceNamesSubscribe}, what) {
		return nil
	}
	return got
}

// decodeTarget is a request to decode into, and its field 3.
type decodeTarget struct {
	msg   proto.Message
	names *[]string
}

// decodesAsProto decodes b into got through rn, and fails t unless
// proto.Unmarshal agrees; it reports whether b decoded.
func decodesAsProto(t *testing.T, rn *requestNames, b []byte, got decodeTarget, what string) bool {
	t.Helper()
	want := got.msg.ProtoReflect().New().Interface()
	wantErr := proto.Unmarshal(b, want)
	gotErr := rn.unmarshal(b, got.msg, got.names)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%s: error %v, proto.Unmarshal's %v", what, gotErr, wantErr)
	}
	if wantErr != nil {
		return false
	}
	if diff := cmp.Diff(want, got.msg, protocmp.Transform()); diff != "" {
		t.Fatalf("%s: decoded otherwise than by proto.Unmarshal (-proto.Unmarshal +requestNames):\n%s", what, diff)
	}
	return true
}

// TestRequestNamesDecodeAsProto: whatever the bytes, a request decodes to
// what proto.Unmarshal makes of them: the names of a recent request
// reused only for the same bytes, in any layout of the records, with
// unknown fields, invalid UTF-8 and truncation; also when every names
// field has the same hash (each lookup then finds another list's entry).
//
// SotW and delta requests share the entries: their field 3 is the names in
// both.
func TestRequestNamesDecodeAsProto(t *testing.T) {
	for _, colliding := range []bool{false, true} {
		t.Run(fmt.Sprint("colliding=", colliding), func(t *testing.T) {
			rn := newRequestNames()
			if colliding {
				rn.hash = func([]byte) uint64 { return 1 }
			}
			r := rand.New(rand.NewPCG(1, 2))
			lists := [][]string{manyNames("a", 40), manyNames("b", 40), manyNames("a", 41), manyNames("a", 3)}
			// The same names in another order, and with one byte changed.
			swapped := append([]string(nil), lists[0]...)
			swapped[0], swapped[1] = swapped[1], swapped[0]
			changed := append([]string(nil), lists[0]...)
			changed[39] = changed[39][:len(changed[39])-1] + "4"
			badUTF8 := append([]string(nil), lists[0]...)
			badUTF8[7] = "\xff\xfe"
			lists = append(lists, swapped, changed, badUTF8)
			shared := 0
			for i := range 600 {
				names := lists[r.IntN(len(lists))]
				delta := r.IntN(3) == 0
				rr := randomKindRequest(r, names, delta)
				if r.IntN(6) == 0 { // a name's tag written in two bytes, as a peer may
					i := []int{0, len(names) - 1}[r.IntN(2)] // the last is the one laid apart
					long := protowire.AppendVarint([]byte{0x80 | 3<<3 | byte(protowire.BytesType), 0}, uint64(len(names[i])))
					rr.names[i] = append(long, names[i]...)
				}
				b := rr.bytes(r.IntN(len(rr.others)+1), r.IntN(5) == 0)
				if r.IntN(10) == 0 {
					b = b[:r.IntN(len(b))] // truncated
				}
				kept := map[*string]bool{}
				for _, e := range rn.byHash {
					kept[&e.names[0]] = true
				}
				var decoded []string
				if delta {
					if got := checkDeltaDecodes(t, rn, b, fmt.Sprintf("delta request %d", i)); got != nil {
						decoded = got.ResourceNamesSubscribe
					}
				} else if got := checkDecodes(t, rn, b, fmt.Sprintf("request %d", i)); got != nil {
					decoded = got.ResourceNames
				}
				if len(decoded) > 0 && kept[&decoded[0]] {
					shared++
				}
			}
			// The same request twice, its last name laid apart with its tag
			// written long (the general path), then with a short tag.
			for _, tag := range [][]byte{{0x80 | 3<<3 | byte(protowire.BytesType), 0}, {3<<3 | byte(protowire.BytesType)}} {
				rr := randomRequest(r, lists[1])
				last := lists[1][len(lists[1])-1]
				rr.names[len(rr.names)-1] = append(protowire.AppendVarint(slices.Clone(tag), uint64(len(last))), last...)
				b := rr.bytes(0, true)
				checkDecodes(t, rn, b, "a name apart")
				checkDecodes(t, rn, b, "a name apart, again")
			}
			// Cut at every byte of the last names and what follows.
			b := randomRequest(r, lists[0]).bytes(0, false)
			for cut := len(b) - 120; cut < len(b); cut++ {
				checkDecodes(t, rn, b[:cut], fmt.Sprintf("cut at %d of %d", cut, len(b)))
			}
			// One hash keeps one list at a time: the next request of
			// another list replaces it.
			if least := map[bool]int{false: 200, true: 20}[colliding]; shared < least {
				t.Errorf("%d of 600 requests reused a recent request's names, fewer than %d", shared, least)
			}
			if rn.size > maxSharedNamesCost {
				t.Errorf("entries cost %d, over %d", rn.size, maxSharedNamesCost)
			}
		})
	}
}

// TestRequestNamesShared: the second request with a recent request's
// names gets the slice decoded for the first (the point of it), clipped so
// that an append cannot write into it; small and different lists do not.
func TestRequestNamesShared(t *testing.T) {
	rn := newRequestNames()
	r := rand.New(rand.NewPCG(3, 4))
	names := manyNames("host", 100)
	first := checkDecodes(t, rn, randomRequest(r, names).bytes(1, false), "first")
	second := checkDecodes(t, rn, randomRequest(r, names).bytes(3, false), "second")
	if &first.ResourceNames[0] != &second.ResourceNames[0] {
		t.Error("a request repeating a recent one's names decoded them again")
	}
	if cap(second.ResourceNames) != len(second.ResourceNames) {
		t.Errorf("shared names have room to append: cap %d, len %d", cap(second.ResourceNames), len(second.ResourceNames))
	}
	other := checkDecodes(t, rn, randomRequest(r, manyNames("host", 101)).bytes(0, false), "other")
	if &first.ResourceNames[0] == &other.ResourceNames[0] {
		t.Error("other names got the first request's slice")
	}
	small := manyNames("h", 2)
	a := checkDecodes(t, rn, randomRequest(r, small).bytes(0, false), "small")
	b := checkDecodes(t, rn, randomRequest(r, small).bytes(0, false), "small again")
	if &a.ResourceNames[0] == &b.ResourceNames[0] {
		t.Error("a list under minSharedNamesBytes was kept")
	}
}

// TestRequestNamesBounded: many distinct lists keep at most
// maxSharedNamesCost of them, the most recent.
func TestRequestNamesBounded(t *testing.T) {
	rn := newRequestNames()
	r := rand.New(rand.NewPCG(5, 6))
	var last *discoveryv3.DiscoveryRequest
	long := strings.Repeat("x", 100)
	for i := range 200 { // 200 lists of 110 KB
		last = checkDecodes(t, rn, randomRequest(r, manyNames(fmt.Sprint(long, i), 1000)).bytes(0, false), fmt.Sprint("list ", i))
		if rn.size > maxSharedNamesCost {
			t.Fatalf("after %d lists the entries cost %d, over %d", i+1, rn.size, maxSharedNamesCost)
		}
	}
	if len(rn.byHash) != len(rn.fifo) || len(rn.byHash) != len(rn.byFirst) {
		t.Errorf("%d entries, %d in the eviction order, %d by first name", len(rn.byHash), len(rn.fifo), len(rn.byFirst))
	}
	again := checkDecodes(t, rn, randomRequest(r, manyNames(fmt.Sprint(long, 199), 1000)).bytes(0, false), "the last list again")
	if &last.ResourceNames[0] != &again.ResourceNames[0] {
		t.Error("the most recent list was evicted")
	}
}

// TestRequestNamesCountsWhatTheyHold: a list of many one-character names
// (three bytes each on the wire) costs each name's overhead, not its three
// bytes, so the bound holds for what the entries hold; a list over the
// guard's bound on names is not kept at all.
func TestRequestNamesCountsWhatTheyHold(t *testing.T) {
	rn := newRequestNames()
	r := rand.New(rand.NewPCG(13, 14))
	tiny := make([]string, 20_000)
	for i := range tiny {
		tiny[i] = string(rune('a' + i%26))
	}
	b := randomRequest(r, tiny).bytes(0, false)
	checkDecodes(t, rn, b, "tiny names")
	if want := nameOverhead * len(tiny); rn.size < want {
		t.Errorf("a list of %d names costs %d, less than their overhead %d", len(tiny), rn.size, want)
	}
	many := make([]string, maxRequestNames+1)
	for i := range many {
		many[i] = "n"
	}
	rn = newRequestNames()
	b = randomRequest(r, many).bytes(0, false)
	first := checkDecodes(t, rn, b, "over the guard's bound")
	if len(rn.byHash) != 0 {
		t.Errorf("a list of %d names, over the guard's %d, was kept", len(many), maxRequestNames)
	}
	if again := checkDecodes(t, rn, b, "over the guard's bound, again"); &again.ResourceNames[0] == &first.ResourceNames[0] {
		t.Error("a list over the guard's bound was shared")
	}
}

// TestCodecDecodesRequestsThroughNames: the server's codec decodes SotW
// and delta requests through its requestNames, and other messages as
// gRPC's codec.
func TestCodecDecodesRequestsThroughNames(t *testing.T) {
	codec := sharedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name), names: newRequestNames()}
	req := &discoveryv3.DiscoveryRequest{TypeUrl: "t", ResourceNames: manyNames("x", 50)}
	data, err := codec.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var got [2]*discoveryv3.DiscoveryRequest
	for i := range got {
		got[i] = &discoveryv3.DiscoveryRequest{}
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data.Materialize())}, got[i]); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(req, got[i], protocmp.Transform()); diff != "" {
			t.Fatalf("decoded (-sent +got):\n%s", diff)
		}
	}
	if &got[0].ResourceNames[0] != &got[1].ResourceNames[0] {
		t.Error("the codec does not share a repeated request's names")
	}
	// A delta request subscribing to the same names gets them too.
	delta := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: "t", ResourceNamesSubscribe: req.ResourceNames}
	data, err = codec.Marshal(delta)
	if err != nil {
		t.Fatal(err)
	}
	gotDelta := &discoveryv3.DeltaDiscoveryRequest{}
	if err := codec.Unmarshal(data, gotDelta); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(delta, gotDelta, protocmp.Transform()); diff != "" {
		t.Fatalf("delta request decoded (-sent +got):\n%s", diff)
	}
	if &got[0].ResourceNames[0] != &gotDelta.ResourceNamesSubscribe[0] {
		t.Error("the codec does not share the names with a delta request")
	}
	// Other messages decode as gRPC's codec does.
	node := &corev3.Node{Id: "n"}
	data, err = codec.Marshal(node)
	if err != nil {
		t.Fatal(err)
	}
	gotNode := &corev3.Node{}
	if err := codec.Unmarshal(data, gotNode); err != nil || !proto.Equal(node, gotNode) {
		t.Fatalf("a Node decoded as %v, %v", gotNode, err)
	}
}

// TestRequestNamesQuickAndHolds: the quick sum and set membership kept for
// a shared slice answer as quickSumOf and nameSet.holds do, for the slice,
// a part of it, a copy, another set and after the entry is gone.
func TestRequestNamesQuickAndHolds(t *testing.T) {
	rn := newRequestNames()
	r := rand.New(rand.NewPCG(7, 8))
	names := manyNames("h", 100)
	b := randomRequest(r, names).bytes(0, false)
	checkDecodes(t, rn, b, "first")
	shared := checkDecodes(t, rn, b, "second").ResourceNames
	if rn.entry(shared) == nil {
		t.Fatal("the shared slice has no entry")
	}
	var in interner
	set, other := in.of(names), in.of(names[:99])
	for _, tc := range []struct {
		name  string
		names []string
		set   *nameSet
	}{
		{"shared, no set", shared, nil}, // before any set is remembered
		{"shared", shared, set},
		{"shared, other set", shared, other},
		{"shared again", shared, set},
		{"a prefix of it", shared[:99], other},
		{"a prefix of it, its whole set", shared[:99], set},
		{"a copy", slices.Clone(shared), set},
	} {
		q := rn.quickOf(tc.names)
		if want := quickSumOf(tc.names); q != want {
			t.Errorf("%s: quick sum %v, want %v", tc.name, q, want)
		}
		if got, want := rn.holds(tc.set, tc.names), tc.set.holds(tc.names, q); got != want {
			t.Errorf("%s: holds %v, nameSet.holds %v", tc.name, got, want)
		}
	}
	var nilNames *requestNames // a stream without the codec's
	if nilNames.quickOf(shared) != quickSumOf(shared) || !nilNames.holds(set, shared) {
		t.Error("a nil requestNames does not answer as quickSumOf and holds")
	}
	for i := range 200 { // push the entry out
		checkDecodes(t, rn, randomRequest(r, manyNames(fmt.Sprint(strings.Repeat("y", 100), i), 1000)).bytes(0, false), "filler")
	}
	if rn.entry(shared) != nil {
		t.Error("an evicted entry is still found by its first name")
	}
	if rn.quickOf(shared) != quickSumOf(shared) || !rn.holds(set, shared) {
		t.Error("the evicted entry's names do not answer as quickSumOf and holds")
	}
}

// BenchmarkNamesField finds the names of an ACK naming 1,000 route
// configurations.
func BenchmarkNamesField(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	req := randomRequest(r, manyNames("host", 1000)).bytes(1, false)
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		if _, _, ok := namesField(req); !ok {
			b.Fatal("no names")
		}
	}
}
