package translate

import (
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestNoDeprecatedFields walks every resource of the rich translation, typed
// configs included, and fails on any set field or enum value that Envoy's
// protos mark deprecated (they may be removed, and some already do nothing).
func TestNoDeprecatedFields(t *testing.T) {
	r := rich(t)
	msgs := r.All()
	for _, m := range msgs {
		deprecatedFields(t, m.ProtoReflect())
	}
}

// deprecatedFields reports deprecated fields set in m and below.
func deprecatedFields(t *testing.T, m protoreflect.Message) {
	t.Helper()
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			t.Fatalf("unpack %s: %v", a.GetTypeUrl(), err)
		}
		deprecatedFields(t, inner.ProtoReflect())
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Options().(*descriptorpb.FieldOptions).GetDeprecated() {
			t.Errorf("deprecated field %s is set", fd.FullName())
		}
		if ed := fd.Enum(); ed != nil && !fd.IsList() {
			if ev := ed.Values().ByNumber(v.Enum()); ev != nil && ev.Options().(*descriptorpb.EnumValueOptions).GetDeprecated() {
				t.Errorf("deprecated enum value %s in %s", ev.FullName(), fd.FullName())
			}
		}
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				deprecatedFields(t, v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				deprecatedFields(t, mv.Message())
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			deprecatedFields(t, v.Message())
		}
		return true
	})
}
