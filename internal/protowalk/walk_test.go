package protowalk_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/sourcecontextpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/typepb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/internal/protowalk"
)

func pack(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// describe names a visited message for the expectations: its type, what
// identifies it, and "in Any" for a payload.
func describe(m proto.Message, in *anypb.Any) string {
	s := string(m.ProtoReflect().Descriptor().Name())
	switch m := m.(type) {
	case *typepb.Option:
		s += " " + m.GetName()
	case *structpb.Value:
		s += " " + m.GetStringValue()
	case *wrapperspb.StringValue:
		s += " " + m.GetValue()
	}
	if in != nil {
		s += " in " + in.GetTypeUrl()
	}
	return s
}

const (
	structURL = "type.googleapis.com/google.protobuf.Struct"
	stringURL = "type.googleapis.com/google.protobuf.StringValue"
	badURL    = "type.googleapis.com/not.a.Type"
)

func TestWalkOrder(t *testing.T) {
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("PackBack=%v", ro), func(t *testing.T) { testWalkOrder(t, ro) })
	}
}

func testWalkOrder(t *testing.T, ro bool) {
	s, err := structpb.NewStruct(map[string]any{"b": "2", "a": "1", "c": "3"})
	if err != nil {
		t.Fatal(err)
	}
	root := &typepb.Type{Options: []*typepb.Option{
		{Name: "first", Value: pack(t, s)},
		{Name: "second", Value: pack(t, wrapperspb.String("x"))},
	}}
	want := []string{
		"Type", "Option first", "Any", "Struct in " + structURL,
		// map entries by key, whatever their order in memory
		"Value 1", "Value 2", "Value 3",
		"Option second", "Any", "StringValue x in " + stringURL,
	}
	for range 5 {
		var got []string
		err := protowalk.Walker{PackBack: ro, Visit: func(m proto.Message, in *anypb.Any) error {
			got = append(got, describe(m, in))
			return nil
		}}.Walk(root)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("visits (-want +got):\n%s", diff)
		}
	}
}

func TestWalkPacksChangesBack(t *testing.T) {
	root := &typepb.Option{Name: "o", Value: pack(t, &typepb.Option{Name: "inner", Value: pack(t, wrapperspb.String("secret"))})}
	err := protowalk.Walker{PackBack: true, Visit: func(m proto.Message, _ *anypb.Any) error {
		if v, ok := m.(*wrapperspb.StringValue); ok {
			v.Value = "[redacted]"
		}
		return nil
	}}.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := root.GetValue().UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inner.(*typepb.Option).GetValue().UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	if got := leaf.(*wrapperspb.StringValue).GetValue(); got != "[redacted]" {
		t.Errorf("the change inside two Anys was not packed back: %q", got)
	}
}

func TestWalkLeavesAnysUntouchedWithoutPackBack(t *testing.T) {
	root := &typepb.Option{Name: "o", Value: pack(t, wrapperspb.String("secret"))}
	want := proto.Clone(root)
	err := protowalk.Walker{Visit: func(m proto.Message, _ *anypb.Any) error {
		if v, ok := m.(*wrapperspb.StringValue); ok {
			v.Value = "changed"
		}
		return nil
	}}.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, root, protocmp.Transform()); diff != "" {
		t.Errorf("the Any changed without PackBack (-want +got):\n%s", diff)
	}
}

// TestWalkFieldNumberOrder: DescriptorProto declares its message fields out
// of number order (extension = 6 before nested_type = 3, options = 7 after
// oneof_decl = 8); the walk visits them by number all the same.
func TestWalkFieldNumberOrder(t *testing.T) {
	root := &descriptorpb.DescriptorProto{
		Field:      []*descriptorpb.FieldDescriptorProto{{Name: proto.String("field")}},
		Extension:  []*descriptorpb.FieldDescriptorProto{{Name: proto.String("extension")}},
		NestedType: []*descriptorpb.DescriptorProto{{Name: proto.String("nested")}},
		OneofDecl:  []*descriptorpb.OneofDescriptorProto{{Name: proto.String("oneof")}},
		Options:    &descriptorpb.MessageOptions{},
	}
	var got []string
	err := protowalk.Walker{Visit: func(m proto.Message, _ *anypb.Any) error {
		s := string(m.ProtoReflect().Descriptor().Name())
		if n, ok := m.(interface{ GetName() string }); ok && n.GetName() != "" {
			s += " " + n.GetName()
		}
		got = append(got, s)
		return nil
	}}.Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DescriptorProto", "FieldDescriptorProto field", "DescriptorProto nested",
		"FieldDescriptorProto extension", "MessageOptions", "OneofDescriptorProto oneof",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("visits (-want +got):\n%s", diff)
	}
}

func TestWalkBadAny(t *testing.T) {
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("PackBack=%v", ro), func(t *testing.T) { testWalkBadAny(t, ro) })
	}
}

func testWalkBadAny(t *testing.T, ro bool) {
	bad := &anypb.Any{TypeUrl: badURL}
	root := &typepb.Type{Options: []*typepb.Option{
		{Name: "bad", Value: bad},
		{Name: "good", Value: pack(t, wrapperspb.String("x"))},
	}}
	visitAll := func(got *[]string) func(proto.Message, *anypb.Any) error {
		return func(m proto.Message, in *anypb.Any) error {
			*got = append(*got, describe(m, in))
			return nil
		}
	}

	t.Run("reported to BadAny, and the walk goes on", func(t *testing.T) {
		var got []string
		err := protowalk.Walker{
			PackBack: ro,
			Visit:    visitAll(&got),
			BadAny: func(a *anypb.Any, err error) error {
				got = append(got, fmt.Sprintf("bad %s (%v)", a.GetTypeUrl(), err != nil))
				return nil
			},
		}.Walk(root)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Type", "Option bad", "Any", "bad " + badURL + " (true)", "Option good", "Any", "StringValue x in " + stringURL}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("visits (-want +got):\n%s", diff)
		}
	})
	t.Run("without BadAny the walk ends with an error naming the type", func(t *testing.T) {
		var got []string
		err := protowalk.Walker{PackBack: ro, Visit: visitAll(&got)}.Walk(root)
		_, unpackErr := bad.UnmarshalNew()
		if want := fmt.Sprintf("unpacking %s: %v", badURL, unpackErr); err == nil || err.Error() != want {
			t.Errorf("error = %v, want %s", err, want)
		}
		if diff := cmp.Diff([]string{"Type", "Option bad", "Any"}, got); diff != "" {
			t.Errorf("visits after the error (-want +got):\n%s", diff)
		}
	})
	t.Run("a visit's error wins over the Any it stopped", func(t *testing.T) {
		stop := errors.New("stop")
		err := protowalk.Walker{PackBack: ro, Visit: func(m proto.Message, _ *anypb.Any) error {
			if _, ok := m.(*anypb.Any); ok {
				return stop
			}
			return nil
		}}.Walk(root)
		if !errors.Is(err, stop) {
			t.Errorf("error = %v, want the visit's", err)
		}
	})
}

// TestWalkSkipChildren: ErrSkipChildren from Visit leaves that message's fields
// (and an Any's payload) unwalked and the walk goes on with the next
// sibling; it is not returned.
func TestWalkSkipChildren(t *testing.T) {
	s, err := structpb.NewStruct(map[string]any{"a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	root := &typepb.Type{Options: []*typepb.Option{
		{Name: "first", Value: pack(t, s)},
		{Name: "second", Value: pack(t, wrapperspb.String("x"))},
	}}
	var got []string
	err = protowalk.Walker{Visit: func(m proto.Message, in *anypb.Any) error {
		got = append(got, describe(m, in))
		if o, ok := m.(*typepb.Option); ok && o.GetName() == "first" {
			return protowalk.ErrSkipChildren
		}
		return nil
	}}.Walk(root)
	if err != nil {
		t.Fatalf("Walk = %v, want nil", err)
	}
	want := []string{"Type", "Option first", "Option second", "Any", "StringValue x in " + stringURL}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("visits (-want +got):\n%s", d)
	}
}

// TestWalkTargets: with Targets, fields whose type can hold neither a
// target nor an Any are not walked; the rest are, in the same order, Anys'
// payloads included.
func TestWalkTargets(t *testing.T) {
	s, err := structpb.NewStruct(map[string]any{"a": "1"})
	if err != nil {
		t.Fatal(err)
	}
	root := &typepb.Type{
		Fields:        []*typepb.Field{{Name: "f", Options: []*typepb.Option{{Name: "in field", Value: pack(t, wrapperspb.String("y"))}}}},
		Options:       []*typepb.Option{{Name: "first", Value: pack(t, s)}},
		SourceContext: &sourcecontextpb.SourceContext{FileName: "no target below"},
	}
	tests := map[string]struct {
		targets *protowalk.Targets
		want    []string
	}{
		"none": {nil, []string{"Type", "Field", "Option in field", "Any", "StringValue y in " + stringURL,
			"Option first", "Any", "Struct in " + structURL, "Value 1", "SourceContext"}},
		// Field and Option hold Anys; SourceContext holds nothing; the
		// Struct's Values hold no Option.
		"Option": {protowalk.NewTargets("google.protobuf.Option"), []string{"Type", "Field", "Option in field", "Any", "StringValue y in " + stringURL,
			"Option first", "Any", "Struct in " + structURL}},
	}
	for name, tc := range tests {
		var got []string
		err := protowalk.Walker{Targets: tc.targets, Visit: func(m proto.Message, in *anypb.Any) error {
			got = append(got, describe(m, in))
			return nil
		}}.Walk(root)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: visits (-want +got):\n%s", name, diff)
		}
	}
}
