package protowalk

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// Walker visits the messages of a tree.
type Walker struct {
	// Visit is called on every message, parents before children: set
	// fields in field-number order, list elements in order, map entries by
	// key, and after an Any its payload, with in set to that Any (nil for
	// any other message). ErrSkipChildren leaves what m holds unwalked; any
	// other error ends the walk and is returned.
	// Extension fields are not walked (protorange walked set ones; Envoy's
	// resources set none).
	Visit func(m proto.Message, in *anypb.Any) error
	// BadAny is called on an Any whose payload does not unpack (its type is
	// not linked into the binary, or its bytes do not parse), after Visit
	// saw the Any. Nil ends the walk with an error naming the type URL.
	BadAny func(a *anypb.Any, err error) error
	// PackBack keeps the changes Visit makes inside an Any's payload: the
	// payload is marshalled before and after its walk and packed back when
	// the bytes differ. Without it a payload is unpacked into a message of
	// its own and dropped after its walk, which costs no marshalling
	// (changes Visit makes to messages outside any Any are kept either
	// way, being made in place).
	PackBack bool
	// Targets, when set, leaves unwalked (and unvisited) every field whose
	// type can hold none of them, nor an Any, at any depth.
	Targets *Targets
}

// ErrSkipChildren, returned by Visit, leaves the visited message's fields (or
// an Any's payload) unwalked; the walk goes on with its next sibling.
var ErrSkipChildren = errors.New("protowalk: skip the message's children")

// Walk walks m.
func (w Walker) Walk(m proto.Message) error {
	return w.message(m.ProtoReflect(), nil)
}

// message visits m (in: the Any m is the payload of) and walks what it
// holds.
func (w Walker) message(m protoreflect.Message, in *anypb.Any) error {
	if err := w.Visit(m.Interface(), in); err != nil {
		if errors.Is(err, ErrSkipChildren) {
			return nil
		}
		return err
	}
	if a, ok := m.Interface().(*anypb.Any); ok {
		return w.anyPayload(a)
	}
	if m.Descriptor().FullName() == anyName {
		return fmt.Errorf("unexpected Any implementation %T", m.Interface())
	}
	return w.fields(m)
}

// fields walks m's populated message fields in field-number order.
func (w Walker) fields(m protoreflect.Message) error {
	var fds []protoreflect.FieldDescriptor
	if w.Targets != nil {
		fds = w.Targets.messageFields(m.Descriptor())
	} else {
		fds = messageFields(m.Descriptor())
	}
	for _, fd := range fds {
		if !m.Has(fd) {
			continue
		}
		if err := w.value(fd, m.Get(fd)); err != nil {
			return err
		}
	}
	return nil
}

// byType caches messageFields by message descriptor.
var byType sync.Map // protoreflect.MessageDescriptor -> []protoreflect.FieldDescriptor

// messageFields lists the fields of md that hold messages (message fields,
// lists of messages, maps with message values), in field-number order.
// Asking each of them Has is cheaper than m.Range, which makes a Value of
// every populated scalar too.
func messageFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	if fs, ok := byType.Load(md); ok {
		return fs.([]protoreflect.FieldDescriptor)
	}
	all := md.Fields()
	var fs []protoreflect.FieldDescriptor
	for i := range all.Len() {
		fd := all.Get(i)
		if fd.Message() != nil && (!fd.IsMap() || fd.MapValue().Message() != nil) {
			fs = append(fs, fd)
		}
	}
	slices.SortFunc(fs, func(a, b protoreflect.FieldDescriptor) int { return cmp.Compare(a.Number(), b.Number()) })
	byType.Store(md, fs)
	return fs
}

// value walks one populated message, list or map field.
func (w Walker) value(fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch {
	case fd.IsMap():
		return w.mapValues(fd, v.Map())
	case fd.IsList():
		l := v.List()
		for i := range l.Len() {
			if err := w.message(l.Get(i).Message(), nil); err != nil {
				return err
			}
		}
		return nil
	}
	return w.message(v.Message(), nil)
}

// mapValues walks a map's message values in key order.
func (w Walker) mapValues(fd protoreflect.FieldDescriptor, mp protoreflect.Map) error {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return compareKeys(fd.MapKey().Kind(), a, b) })
	for _, k := range keys {
		if err := w.message(mp.Get(k).Message(), nil); err != nil {
			return err
		}
	}
	return nil
}

// compareKeys orders map keys as protorange's stable order did: false
// before true, numbers by value, strings by bytes.
func compareKeys(kind protoreflect.Kind, a, b protoreflect.MapKey) int {
	switch kind {
	case protoreflect.BoolKind:
		return cmp.Compare(boolInt(a.Bool()), boolInt(b.Bool()))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return cmp.Compare(a.Int(), b.Int())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return cmp.Compare(a.Uint(), b.Uint())
	}
	return cmp.Compare(a.String(), b.String())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// anyPayload unpacks an Any's payload and walks it, or reports the Any as
// bad when it does not unpack.
func (w Walker) anyPayload(a *anypb.Any) error {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(a.GetTypeUrl())
	if err != nil {
		return w.badAny(a)
	}
	payload := mt.New()
	if err := (proto.UnmarshalOptions{Merge: true, AllowPartial: true}).Unmarshal(a.GetValue(), payload.Interface()); err != nil {
		return w.badAny(a)
	}
	var before []byte
	if w.PackBack {
		if before, err = deterministic(payload.Interface()); err != nil {
			return err
		}
	}
	if err := w.message(payload, a); err != nil || !w.PackBack {
		return err
	}
	after, err := deterministic(payload.Interface())
	if err != nil {
		return err
	}
	if !bytes.Equal(before, after) {
		a.Value = after
	}
	return nil
}

func deterministic(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{AllowPartial: true, Deterministic: true}.Marshal(m)
}

// badAny reports an Any whose payload does not unpack, with the error
// unpacking it gives.
func (w Walker) badAny(a *anypb.Any) error {
	_, err := a.UnmarshalNew()
	if err == nil {
		// UnmarshalNew is stricter than the walk's unmarshalling (which
		// allows partial messages), so it fails wherever the walk's did;
		// should it not, the Any is reported all the same.
		err = fmt.Errorf("the payload of %s did not unpack", a.GetTypeUrl())
	}
	if w.BadAny == nil {
		return fmt.Errorf("unpacking %s: %w", a.GetTypeUrl(), err)
	}
	return w.BadAny(a, err)
}

var anyName = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()
