package dump

import (
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// holdsKeys reports whether m holds something redact would change: a
// TlsCertificate with a private key or password, wherever it sits (inside
// an Any too), or an Any that does not unmarshal (redact reports that
// error). It reads m without copying it, so that the common case, a
// resource with no key in it (trustgate sends keys over SDS only), costs no
// proto.Clone.
func holdsKeys(m protoreflect.Message) bool {
	switch v := m.Interface().(type) {
	case *tlsv3.TlsCertificate:
		return v.PrivateKey != nil || v.Password != nil
	case *anypb.Any:
		inner, err := v.UnmarshalNew()
		return err != nil || holdsKeys(inner.ProtoReflect())
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len() && !found; i++ {
				found = holdsKeys(v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = holdsKeys(mv.Message())
				return !found
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			found = holdsKeys(v.Message())
		}
		return !found
	})
	return found
}
