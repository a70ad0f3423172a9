package dump

import (
	"fmt"

	"github.com/cncf/xds/go/udpa/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
)

// Redacted replaces the value of a sensitive string or bytes field.
const Redacted = "[redacted]"

// redact returns a copy of m in which every field that Envoy's protos mark
// `(udpa.annotations.sensitive) = true`, and everything inside such a field,
// is redacted as Envoy's own config_dump does it (MessageUtil::redact in
// source/common/protobuf/utility.cc): strings and bytes read "[redacted]",
// other scalars are cleared, messages are walked with everything in them
// sensitive, and of a map only the values are redacted. A typed config
// (Any) is unpacked, redacted and packed again, so a private key inlined in
// a listener's TLS context is caught as well as one in an SDS Secret. Which
// fields are secret is the protos' say, not a list kept here: today that is
// TlsCertificate's private_key and password, and whatever a later Envoy API
// marks.
func redact(m proto.Message) (proto.Message, error) {
	c := proto.Clone(m)
	if _, err := redactMsg(c.ProtoReflect(), false); err != nil {
		return nil, err
	}
	return c, nil
}

// sensitive reports whether a field carries the udpa.annotations.sensitive
// option.
func sensitive(fd protoreflect.FieldDescriptor) bool {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	if !ok || opts == nil {
		return false
	}
	on, ok := proto.GetExtension(opts, annotations.E_Sensitive).(bool)
	return ok && on
}

// redactMsg redacts m in place; under is true inside a sensitive field. It
// reports whether anything changed.
func redactMsg(m protoreflect.Message, under bool) (bool, error) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		return redactAny(a, under)
	}
	changed := false
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		var ch bool
		ch, err = redactField(m, fd, v, under || sensitive(fd))
		changed = changed || ch
		return err == nil
	})
	return changed, err
}

// redactField redacts one populated field; sens is true when the field or
// one of its ancestors is sensitive.
func redactField(m protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value, sens bool) (bool, error) {
	switch {
	case fd.IsMap():
		return redactMap(v.Map(), fd.MapValue(), sens)
	case fd.IsList() && fd.Message() != nil:
		changed := false
		for i := 0; i < v.List().Len(); i++ {
			ch, err := redactMsg(v.List().Get(i).Message(), sens)
			if err != nil {
				return false, err
			}
			changed = changed || ch
		}
		return changed, nil
	case fd.Message() != nil:
		return redactMsg(v.Message(), sens)
	case !sens:
		return false, nil
	case fd.IsList() && isText(fd):
		for i := 0; i < v.List().Len(); i++ {
			v.List().Set(i, redactedScalar(fd))
		}
		return true, nil
	case isText(fd):
		m.Set(fd, redactedScalar(fd))
		return true, nil
	}
	m.Clear(fd)
	return true, nil
}

// redactMap redacts a map's values, never its keys: redacting both would
// leave several "[redacted]" keys.
func redactMap(mp protoreflect.Map, vd protoreflect.FieldDescriptor, sens bool) (bool, error) {
	changed := false
	var err error
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		var ch bool
		switch {
		case vd.Message() != nil:
			ch, err = redactMsg(v.Message(), sens)
		case sens && isText(vd):
			mp.Set(k, redactedScalar(vd))
			ch = true
		case sens:
			mp.Set(k, vd.Default())
			ch = true
		}
		changed = changed || ch
		return err == nil
	})
	return changed, err
}

// isText reports whether a field holds a string or bytes.
func isText(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind
}

// redactedScalar is "[redacted]" as a string or bytes value.
func redactedScalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	if fd.Kind() == protoreflect.BytesKind {
		return protoreflect.ValueOfBytes([]byte(Redacted))
	}
	return protoreflect.ValueOfString(Redacted)
}

// redactAny redacts inside a typed config and repacks it if needed. A type
// this binary does not know is an error: every type trustgate emits is
// registered by the packages that build it.
func redactAny(a *anypb.Any, under bool) (bool, error) {
	inner, err := a.UnmarshalNew()
	if err != nil {
		return false, fmt.Errorf("redacting %s: %w", a.GetTypeUrl(), err)
	}
	changed, err := redactMsg(inner.ProtoReflect(), under)
	if err != nil || !changed {
		return false, err
	}
	return true, anypb.MarshalFrom(a, inner, proto.MarshalOptions{Deterministic: true})
}
