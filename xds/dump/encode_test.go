package dump

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// indented is b laid out by indentTo: protojson's varying whitespace gone.
func indented(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := indentTo(&out, b, "", "  "); err != nil {
		t.Fatalf("indent %q: %v", b, err)
	}
	return out.String()
}

// sameAsProtojson fails unless appendJSON renders m as protojson does,
// whitespace aside.
func sameAsProtojson(t *testing.T, name string, m proto.Message) {
	t.Helper()
	want, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		t.Fatalf("%s: protojson: %v", name, err)
	}
	got, err := appendJSON(nil, m.ProtoReflect())
	if err != nil {
		t.Fatalf("%s: appendJSON: %v", name, err)
	}
	if d := cmp.Diff(indented(t, want), indented(t, got)); d != "" {
		t.Errorf("%s: (-protojson +appendJSON):\n%s", name, d)
	}
}

// TestAppendJSONEqualsProtojson: every resource of the fixtures, and
// messages holding every scalar kind, the well-known types, Anys of every
// form, maps and strings needing escapes, render as protojson renders them.
func TestAppendJSONEqualsProtojson(t *testing.T) {
	for _, r := range []struct {
		name string
		msgs []proto.Message
	}{
		{"rich", rich(t).All()},
		{"keyed", keyedListeners(t).All()},
		{"routes", manyRoutes(3).All()},
	} {
		for i, m := range r.msgs {
			sameAsProtojson(t, fmt.Sprintf("%s #%d", r.name, i), m)
		}
	}
	st, err := structpb.NewStruct(map[string]any{
		"z": nil, "a": true, "n": 1.5, "big": 1e21, "small": 1e-7, "neg": math.Copysign(0, -1), "s": "q\"\\\n\x01\u2028\ufffd😀<&>",
		"list": []any{1, "x", false, nil, map[string]any{"k": []any{}}}, "empty": map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	scalars := &descriptorpb.UninterpretedOption{
		Name:             []*descriptorpb.UninterpretedOption_NamePart{{NamePart: proto.String("p"), IsExtension: proto.Bool(true)}, {NamePart: proto.String(""), IsExtension: proto.Bool(false)}},
		IdentifierValue:  proto.String("id\t"),
		PositiveIntValue: proto.Uint64(math.MaxUint64),
		NegativeIntValue: proto.Int64(math.MinInt64),
		DoubleValue:      proto.Float64(123456789.125),
		StringValue:      []byte("\x00\xffbytes"),
		AggregateValue:   proto.String(""),
	}
	cluster := &clusterv3.Cluster{
		Name:                          "c",
		LbPolicy:                      clusterv3.Cluster_LbPolicy(999), // no name: a number
		ConnectTimeout:                durationpb.New(1500000000),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(7),
		Metadata: &corev3.Metadata{
			FilterMetadata:      map[string]*structpb.Struct{"b": st, "a": {}, "": st},
			TypedFilterMetadata: map[string]*anypb.Any{"d": mustAny(t, wrapperspb.Float(0.1)), "any": mustAny(t, mustAny(t, st)), "empty": mustAny(t, &emptypb.Empty{})},
		},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{"x": {}, "ts": mustAny(t, timestamppb.New(timestamppb.Now().AsTime())), "fm": mustAny(t, &fieldmaskpb.FieldMask{Paths: []string{"a.b"}})},
	}
	for name, m := range map[string]proto.Message{
		"scalars":        scalars,
		"well-known":     cluster,
		"struct":         st,
		"value in Any":   mustAny(t, structpb.NewNumberValue(2)),
		"an Any alone":   mustAny(t, cluster),
		"duration 0":     &clusterv3.Cluster{ConnectTimeout: &durationpb.Duration{}},
		"duration -0.5s": &clusterv3.Cluster{ConnectTimeout: &durationpb.Duration{Nanos: -5e8}},
		"duration 1µs":   &clusterv3.Cluster{ConnectTimeout: &durationpb.Duration{Seconds: 3, Nanos: 1000}},
		"duration 1ns":   &clusterv3.Cluster{ConnectTimeout: &durationpb.Duration{Seconds: -3, Nanos: -1}},
	} {
		sameAsProtojson(t, name, m)
	}
}

// TestAppendFloatEqualsProtojson: floats and doubles, both notations, the
// special values, as protojson writes a FloatValue and a DoubleValue.
func TestAppendFloatEqualsProtojson(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300, 3.4e38, 1e-45, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, m := range []proto.Message{wrapperspb.Double(f), wrapperspb.Float(float32(f))} {
			sameAsProtojson(t, fmt.Sprintf("%T %v", m, f), m)
		}
	}
}

// TestAppendJSONLeavesErrorsToProtojson: what protojson fails on,
// appendJSON does not render (marshalJSON then asks protojson).
func TestAppendJSONLeavesErrorsToProtojson(t *testing.T) {
	for name, m := range map[string]proto.Message{
		"string not UTF-8":    &clusterv3.Cluster{Name: "a\xffb"},
		"Any of unknown type": &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type"},
		"Any without a type":  &anypb.Any{Value: []byte{1}},
		"Value without kind":  &structpb.Value{},
		"Value NaN":           structpb.NewNumberValue(math.NaN()),
		"duration too long":   &clusterv3.Cluster{ConnectTimeout: &durationpb.Duration{Seconds: 315576000001}},
		"duration signs":      &clusterv3.Cluster{ConnectTimeout: &durationpb.Duration{Seconds: 1, Nanos: -1}},
	} {
		if _, err := protojson.Marshal(m); err == nil {
			t.Errorf("%s: protojson rendered it", name)
		}
		if _, err := appendJSON(nil, m.ProtoReflect()); err == nil {
			t.Errorf("%s: appendJSON rendered it", name)
		}
	}
}

// TestRenderReusesTypedConfigsByTypeAndBytes: a render that meets the same
// typed configs again (three times each) renders each as protojson does,
// payloads of the same bytes but another type included.
func TestRenderReusesTypedConfigsByTypeAndBytes(t *testing.T) {
	empty := map[string]*anypb.Any{
		"empty": mustAny(t, &emptypb.Empty{}), "mask": mustAny(t, &fieldmaskpb.FieldMask{}), "cluster": mustAny(t, &clusterv3.Cluster{}),
		"struct": mustAny(t, &structpb.Struct{}), "name": mustAny(t, &clusterv3.Cluster{Name: "n"}), "again": mustAny(t, &clusterv3.Cluster{Name: "n"}),
	}
	m := &clusterv3.Cluster{Name: "c", TypedExtensionProtocolOptions: empty}
	want, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	rd := newRenderer(false)
	for i := range 3 {
		err := jsonEncoder{anys: &rd.anys}.marshal(m, func(got []byte) error {
			if d := cmp.Diff(indented(t, want), indented(t, got)); d != "" {
				t.Errorf("render %d: (-protojson +render):\n%s", i, d)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := rd.anys.m.Len(); n != 5 {
		t.Errorf("%d typed configs remembered, want 5 (two of the six are the same)", n)
	}
}
