package dump

import (
	"sync"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// keyScan finds resources that hold something redact would change, without
// copying them: the common case, a resource with no key in it (trustgate
// sends keys over SDS only), then costs no proto.Clone. It skips fields
// whose type can hold neither a TlsCertificate nor an Any, and looks inside
// each distinct typed config once (the chains of a listener repeat the
// same TLS context and filters).
type keyScan struct {
	anys sync.Map // type URL + "\x00" + value -> bool
}

var (
	tlsCertName = (&tlsv3.TlsCertificate{}).ProtoReflect().Descriptor().FullName()
	anyName     = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()
	// mayHold caches reaches by message type.
	mayHold sync.Map // protoreflect.FullName -> bool
)

// holdsKeys reports whether m holds a TlsCertificate with a private key or
// password, wherever it sits (inside an Any too), or an Any that does not
// unmarshal (redact reports that error).
func (k *keyScan) holdsKeys(m protoreflect.Message) bool {
	switch v := m.Interface().(type) {
	case *tlsv3.TlsCertificate:
		return v.PrivateKey != nil || v.Password != nil
	case *anypb.Any:
		key := v.GetTypeUrl() + "\x00" + string(v.GetValue())
		if found, ok := k.anys.Load(key); ok {
			return found.(bool)
		}
		inner, err := v.UnmarshalNew()
		found := err != nil || k.holdsKeys(inner.ProtoReflect())
		k.anys.Store(key, found)
		return found
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		md := fd.Message()
		if fd.IsMap() {
			md = fd.MapValue().Message()
		}
		if md == nil || !reaches(md) {
			return true
		}
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len() && !found; i++ {
				found = k.holdsKeys(v.List().Get(i).Message())
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = k.holdsKeys(mv.Message())
				return !found
			})
		default:
			found = k.holdsKeys(v.Message())
		}
		return !found
	})
	return found
}

// reaches reports whether a message of type md can hold, at any depth, a
// TlsCertificate or an Any (which can hold anything).
func reaches(md protoreflect.MessageDescriptor) bool {
	if r, ok := mayHold.Load(md.FullName()); ok {
		return r.(bool)
	}
	r := search(md, map[protoreflect.FullName]bool{})
	mayHold.Store(md.FullName(), r)
	return r
}

// search walks the types reachable from md, each once.
func search(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if md.FullName() == tlsCertName || md.FullName() == anyName {
		return true
	}
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		sub := fd.Message()
		if fd.IsMap() {
			sub = fd.MapValue().Message()
		}
		if sub != nil && search(sub, seen) {
			return true
		}
	}
	return false
}
