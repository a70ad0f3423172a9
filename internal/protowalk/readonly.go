package protowalk

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// walkReadOnly is Walk for a Visit that changes nothing: the same visits in
// the same order as protorange's stable traversal (fields by number, list
// elements in order, map entries by key, an Any's payload after the Any),
// without what protorange does to keep changes: it marshals every Any's
// payload before and after walking it, to pack a changed one back. Those
// two marshals, and protopath's bookkeeping, were most of the cost of
// checking a listener of 10,000 filter chains.
func (w Walker) walkReadOnly(m protoreflect.Message, in *anypb.Any) error {
	if err := w.Visit(m.Interface(), in); err != nil {
		return err
	}
	if m.Descriptor().FullName() == anyName {
		return w.walkAny(m)
	}
	return w.walkFields(m)
}

// walkFields walks the message-valued fields of m in field-number order.
func (w Walker) walkFields(m protoreflect.Message) error {
	type field struct {
		fd protoreflect.FieldDescriptor
		v  protoreflect.Value
	}
	var fields []field
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() != nil {
			fields = append(fields, field{fd, v})
		}
		return true
	})
	slices.SortFunc(fields, func(a, b field) int { return cmp.Compare(a.fd.Number(), b.fd.Number()) })
	for _, f := range fields {
		var err error
		switch {
		case f.fd.IsMap():
			err = w.walkMap(f.fd, f.v.Map())
		case f.fd.IsList():
			l := f.v.List()
			for i := range l.Len() {
				if err = w.walkReadOnly(l.Get(i).Message(), nil); err != nil {
					break
				}
			}
		default:
			err = w.walkReadOnly(f.v.Message(), nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// walkMap walks the message values of a map, by key (protorange's stable
// order: false before true, numbers by value, strings by bytes).
func (w Walker) walkMap(fd protoreflect.FieldDescriptor, mp protoreflect.Map) error {
	if fd.MapValue().Message() == nil {
		return nil
	}
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		if err := w.walkReadOnly(mp.Get(k).Message(), nil); err != nil {
			return err
		}
	}
	return nil
}

// compareKeys orders map keys as protobuf's order.GenericKeyOrder does.
func compareKeys(a, b protoreflect.MapKey) int {
	switch x := a.Interface().(type) {
	case bool:
		if x == b.Bool() {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case int32, int64:
		return cmp.Compare(a.Int(), b.Int())
	case uint32, uint64:
		return cmp.Compare(a.Uint(), b.Uint())
	default:
		return cmp.Compare(a.String(), b.String())
	}
}

// walkAny walks an Any's payload, or reports it (badAny) when its type is
// not linked in or its bytes do not parse, as protorange's expansion does.
func (w Walker) walkAny(m protoreflect.Message) error {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		return w.badAny(m.Interface())
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(a.GetTypeUrl())
	if err != nil {
		return w.badAny(a)
	}
	payload := mt.New()
	if err := (proto.UnmarshalOptions{Merge: true, AllowPartial: true, Resolver: protoregistry.GlobalTypes}).Unmarshal(a.GetValue(), payload.Interface()); err != nil {
		return w.badAny(a)
	}
	return w.walkReadOnly(payload, a)
}
