package server

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// versionsRequest writes a delta request record by record: other fields
// (names included), and initial_resource_versions entries in the shapes a
// peer may write them.
func versionsRequest(r *rand.Rand) []byte {
	rr := randomKindRequest(r, manyNames("s", r.IntN(40)), true)
	records := append(rr.others, rr.names...)
	// Half the requests hold only entries of the shapes takeVersions
	// decodes itself, the others any.
	clean := r.IntN(2) == 0
	str := func(s string) string {
		if clean {
			return s
		}
		switch r.IntN(30) {
		case 0:
			return s + "\xff" // invalid UTF-8: proto.Unmarshal refuses it
		case 1:
			return ""
		}
		return s
	}
	for i := range r.IntN(60) {
		k, v := str(fmt.Sprint("route-", r.IntN(50))), str(fmt.Sprint("v", i))
		var e []byte
		field := func(num protowire.Number, s string) {
			e = protowire.AppendString(protowire.AppendTag(e, num, protowire.BytesType), s)
		}
		shape := r.IntN(12)
		if clean && shape >= 3 && shape <= 5 {
			shape = 6 // a key and a value
		}
		switch shape {
		case 0: // no key
			field(2, v)
		case 1: // no value
			field(1, k)
		case 2: // value first, key twice: the last wins
			field(2, v)
			field(1, "first")
			field(1, k)
		case 3: // a field of its own: not the shape takeVersions takes
			field(1, k)
			field(2, v)
			e = protowire.AppendVarint(protowire.AppendTag(e, 3, protowire.VarintType), 1)
		case 4: // the key as a varint: an unknown field to proto.Unmarshal
			e = protowire.AppendVarint(protowire.AppendTag(e, 1, protowire.VarintType), 1)
			field(2, v)
		case 5: // a length past the entry's end
			e = protowire.AppendVarint(protowire.AppendTag(e, 1, protowire.BytesType), 200)
		default:
			field(1, k)
			field(2, v)
		}
		rec := protowire.AppendBytes(protowire.AppendTag(nil, versionsField, protowire.BytesType), e)
		if !clean && r.IntN(40) == 0 { // field 5 as a varint: kept as an unknown field
			rec = protowire.AppendVarint(protowire.AppendTag(nil, versionsField, protowire.VarintType), 5)
		}
		records = append(records, rec)
	}
	if r.IntN(2) == 0 { // the entries among the other records
		r.Shuffle(len(records), func(i, j int) { records[i], records[j] = records[j], records[i] })
	}
	var b []byte
	for _, rec := range records {
		b = append(b, rec...)
	}
	if r.IntN(10) == 0 { // truncated
		b = b[:r.IntN(len(b)+1)]
	}
	return b
}

// TestTakeVersionsDecodesAsProto: whatever the bytes, the codec decodes a
// delta request to what proto.Unmarshal makes of them, or fails where it
// fails: entries in any order and layout, duplicated, without key or
// value, with other fields, bad UTF-8, records cut short; and requestSize
// is proto.Size of what they decode to.
func TestTakeVersionsDecodesAsProto(t *testing.T) {
	codec := sharedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name), names: newRequestNames()}
	r := rand.New(rand.NewPCG(16, 5))
	taken := 0
	for i := range 3000 {
		b := versionsRequest(r)
		if _, v, ok := takeVersions(b); ok && len(v) > 0 {
			taken++
		}
		want := &discoveryv3.DeltaDiscoveryRequest{}
		wantErr := proto.Unmarshal(b, want)
		got := &discoveryv3.DeltaDiscoveryRequest{}
		gotErr := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("request %d: error %v, proto.Unmarshal's %v", i, gotErr, wantErr)
		}
		if wantErr != nil {
			continue
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Fatalf("request %d: decoded otherwise than by proto.Unmarshal (-proto.Unmarshal +codec):\n%s", i, diff)
		}
		if got, want := requestSize(got), proto.Size(want); got != want {
			t.Fatalf("request %d: requestSize %d, proto.Size %d", i, got, want)
		}
	}
	// Most requests have entries of the shape takeVersions decodes itself.
	if taken < 1000 {
		t.Errorf("takeVersions decoded %d of 3000 requests' entries itself, want most", taken)
	}
}

// TestTakeVersionsBoundsTheMap: a request of many entries of one key sizes
// its map by the guard's bound on names, not by its entries. A million
// entries (5 MB) would size a map of about 40 MB.
func TestTakeVersionsBoundsTheMap(t *testing.T) {
	e := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "k")
	rec := protowire.AppendBytes(protowire.AppendTag(nil, versionsField, protowire.BytesType), e)
	var b []byte
	for range 10 * maxRequestNames {
		b = append(b, rec...)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, v, ok := takeVersions(b)
	runtime.ReadMemStats(&after)
	if !ok || len(v) != 1 {
		t.Fatalf("takeVersions: %d entries, %v; want one", len(v), ok)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 24<<20 {
		t.Errorf("decoding %d bytes allocated %d", len(b), n)
	}
}

func BenchmarkTakeVersions(b *testing.B) {
	versions := map[string]string{}
	for i := range 4000 {
		versions[fmt.Sprintf("outbound|443||host-%04d.example.com", i)] = fmt.Sprintf("%064x", i)
	}
	data, err := proto.Marshal(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: "t", InitialResourceVersions: versions})
	if err != nil {
		b.Fatal(err)
	}
	codec := sharedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name), names: newRequestNames()}
	for _, way := range []string{"proto", "codec"} {
		b.Run(way, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := &discoveryv3.DeltaDiscoveryRequest{}
				if way == "proto" {
					err = proto.Unmarshal(data, req)
					_ = proto.Size(req)
				} else {
					err = codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, req)
					_ = requestSize(req)
				}
				if err != nil || len(req.InitialResourceVersions) != len(versions) {
					b.Fatal(err)
				}
			}
		})
	}
}
