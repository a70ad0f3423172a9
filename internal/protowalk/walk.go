package protowalk

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protopath"
	"google.golang.org/protobuf/reflect/protorange"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

var anyName = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()

// Walker visits the messages of a tree.
type Walker struct {
	// Visit is called on every message, parents before children: set
	// fields in field-number order, list elements in order, map entries by
	// key, and after an Any its payload, with in set to that Any (nil for
	// any other message). Changes Visit makes to the message it is given are
	// kept, inside an Any's payload too (the payload is packed back). An
	// error ends the walk and is returned.
	Visit func(m proto.Message, in *anypb.Any) error
	// BadAny is called on an Any whose payload does not unpack (its type is
	// not linked into the binary, or its bytes do not parse), after Visit
	// saw the Any. Nil ends the walk with an error naming the type URL.
	BadAny func(a *anypb.Any, err error) error
	// ReadOnly says that Visit changes nothing: the walk then keeps no
	// changes, and costs a fraction (see walkReadOnly). The visits are the
	// same.
	ReadOnly bool
}

// Walk walks m.
func (w Walker) Walk(m proto.Message) error {
	if w.ReadOnly {
		return w.walkReadOnly(m.ProtoReflect(), nil)
	}
	// unpacked has one entry per Any being walked: whether protorange
	// expanded its payload (it walks an Any that does not unpack as a plain
	// message, silently).
	var unpacked []bool
	push := func(p protopath.Values) error {
		last := p.Index(-1)
		msg, ok := last.Value.Interface().(protoreflect.Message)
		if !ok {
			return nil
		}
		var in *anypb.Any
		if last.Step.Kind() == protopath.AnyExpandStep {
			unpacked[len(unpacked)-1] = true
			a, ok := p.Index(-2).Value.Message().Interface().(*anypb.Any)
			if !ok {
				return fmt.Errorf("unexpected Any implementation %T", p.Index(-2).Value.Message().Interface())
			}
			in = a
		}
		err := w.Visit(msg.Interface(), in)
		if msg.Descriptor().FullName() == anyName {
			// An Any whose visit failed is not walked: nothing to report.
			unpacked = append(unpacked, err != nil)
		}
		return err
	}
	pop := func(p protopath.Values) error {
		msg, ok := p.Index(-1).Value.Interface().(protoreflect.Message)
		if !ok || msg.Descriptor().FullName() != anyName {
			return nil
		}
		done := unpacked[len(unpacked)-1]
		unpacked = unpacked[:len(unpacked)-1]
		if done {
			return nil
		}
		return w.badAny(msg.Interface())
	}
	return protorange.Options{Stable: true}.Range(m.ProtoReflect(), push, pop)
}

// badAny reports an Any that protorange could not expand, with the error
// unpacking it gives.
func (w Walker) badAny(m proto.Message) error {
	a, ok := m.(*anypb.Any)
	if !ok {
		return fmt.Errorf("unexpected Any implementation %T", m)
	}
	_, err := a.UnmarshalNew()
	if err == nil {
		// UnmarshalNew is stricter than protorange (which allows partial
		// messages), so it fails wherever protorange did; should it not,
		// the Any is reported all the same.
		err = fmt.Errorf("the payload of %s did not unpack", a.GetTypeUrl())
	}
	if w.BadAny == nil {
		return fmt.Errorf("unpacking %s: %w", a.GetTypeUrl(), err)
	}
	return w.BadAny(a, err)
}
