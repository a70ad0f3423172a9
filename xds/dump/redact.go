package dump

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// Redacted replaces a private key (or its password) in the output.
const Redacted = "[redacted]"

// redact returns a copy of m in which every TlsCertificate's private key and
// password read "[redacted]", wherever it sits (a Secret, or inlined in a
// listener or cluster inside an Any). Working on the proto rather than the
// text catches the key in any encoding (inline_bytes is base64 in JSON).
// Certificates are kept.
func redact(m proto.Message) (proto.Message, error) {
	c := proto.Clone(m)
	if _, err := redactMsg(c.ProtoReflect()); err != nil {
		return nil, err
	}
	return c, nil
}

// redactMsg redacts m in place and reports whether it changed anything.
func redactMsg(m protoreflect.Message) (bool, error) {
	switch v := m.Interface().(type) {
	case *tlsv3.TlsCertificate:
		return redactCert(v), nil
	case *anypb.Any:
		return redactAny(v)
	}
	changed := false
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		var ch bool
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len() && err == nil; i++ {
				ch, err = redactMsg(v.List().Get(i).Message())
				changed = changed || ch
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				ch, err = redactMsg(mv.Message())
				changed = changed || ch
				return err == nil
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			ch, err = redactMsg(v.Message())
			changed = changed || ch
		}
		return err == nil
	})
	return changed, err
}

// redactCert redacts one certificate's secrets.
func redactCert(c *tlsv3.TlsCertificate) bool {
	changed := false
	if c.PrivateKey != nil {
		c.PrivateKey = redactedSource()
		changed = true
	}
	if c.Password != nil {
		c.Password = redactedSource()
		changed = true
	}
	return changed
}

// redactAny redacts inside a typed config and repacks it if needed.
func redactAny(a *anypb.Any) (bool, error) {
	inner, err := a.UnmarshalNew()
	if err != nil {
		return false, err
	}
	changed, err := redactMsg(inner.ProtoReflect())
	if err != nil || !changed {
		return false, err
	}
	return true, anypb.MarshalFrom(a, inner, proto.MarshalOptions{Deterministic: true})
}

// redactedSource is the placeholder DataSource.
func redactedSource() *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: Redacted}}
}
