package translate

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/protowalk"
)

// TestNoDeprecatedFields walks every resource of the rich translation, typed
// configs included, and fails on any set field or enum value that Envoy's
// protos mark deprecated (they may be removed, and some already do nothing).
func TestNoDeprecatedFields(t *testing.T) {
	r := rich(t)
	w := protowalk.Walker{Visit: func(m proto.Message, _ *anypb.Any) error {
		deprecatedFields(t, m.ProtoReflect())
		return nil
	}}
	for _, m := range r.All() {
		if err := w.Walk(m); err != nil {
			t.Fatal(err)
		}
	}
}

// deprecatedFields reports deprecated fields and enum values set in m itself.
func deprecatedFields(t *testing.T, m protoreflect.Message) {
	t.Helper()
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Options().(*descriptorpb.FieldOptions).GetDeprecated() {
			t.Errorf("deprecated field %s is set", fd.FullName())
		}
		if ed := fd.Enum(); ed != nil && !fd.IsList() {
			if ev := ed.Values().ByNumber(v.Enum()); ev != nil && ev.Options().(*descriptorpb.EnumValueOptions).GetDeprecated() {
				t.Errorf("deprecated enum value %s in %s", ev.FullName(), fd.FullName())
			}
		}
		return true
	})
}
