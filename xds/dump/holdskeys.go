package dump

import (
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// keyScan finds resources that hold something redact would change, without
// copying them: the common case, a resource with nothing sensitive in it
// (trustgate sends keys over SDS only), then costs no proto.Clone. A
// resource holds something when a field marked sensitive is set anywhere in
// it, an Any's payload included; redact changes nothing else. Per message
// type it asks only the fields that are sensitive or can lead to one (or to
// an Any, which can hold anything), and it looks inside each distinct typed
// config once (the chains of a listener repeat the same TLS context and
// filters).
type keyScan struct {
	mu   sync.RWMutex
	anys map[string]map[string]bool // type URL -> value -> holds
}

// holdsKeys reports whether m holds a set sensitive field, wherever it
// sits (inside an Any too), or an Any that does not unmarshal (redact
// reports that error).
func (k *keyScan) holdsKeys(m protoreflect.Message) bool {
	if a, ok := m.Interface().(*anypb.Any); ok {
		return k.anyHolds(a)
	}
	t := scanTypeOf(m.Descriptor())
	for _, fd := range t.sensitive {
		if m.Has(fd) {
			return true
		}
	}
	for _, fd := range t.walk {
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if k.holdsKeys(l.Get(i).Message()) {
					return true
				}
			}
		case fd.IsMap():
			found := false
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = k.holdsKeys(mv.Message())
				return !found
			})
			if found {
				return true
			}
		default:
			if k.holdsKeys(v.Message()) {
				return true
			}
		}
	}
	return false
}

// anyHolds is holdsKeys for an Any, remembered by type URL and value.
func (k *keyScan) anyHolds(a *anypb.Any) bool {
	url, value := a.GetTypeUrl(), a.GetValue()
	k.mu.RLock()
	found, ok := k.anys[url][string(value)]
	k.mu.RUnlock()
	if ok {
		return found
	}
	inner, err := a.UnmarshalNew()
	found = err != nil || k.holdsKeys(inner.ProtoReflect())
	k.mu.Lock()
	if k.anys == nil {
		k.anys = map[string]map[string]bool{}
	}
	if k.anys[url] == nil {
		k.anys[url] = map[string]bool{}
	}
	k.anys[url][string(value)] = found
	k.mu.Unlock()
	return found
}

// scanType is what holdsKeys asks of a message type: its sensitive fields,
// and the message fields (lists and maps of messages too) whose type can
// hold a sensitive field or an Any.
type scanType struct {
	sensitive, walk []protoreflect.FieldDescriptor
}

var (
	anyName = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()
	// scanTypes caches scanTypeOf by message type.
	scanTypes sync.Map // protoreflect.FullName -> *scanType
	// mayHold caches reaches by message type.
	mayHold sync.Map // protoreflect.FullName -> bool
)

func scanTypeOf(md protoreflect.MessageDescriptor) *scanType {
	if t, ok := scanTypes.Load(md.FullName()); ok {
		return t.(*scanType)
	}
	t := &scanType{}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if sensitive(fd) {
			t.sensitive = append(t.sensitive, fd)
			continue
		}
		if sub := messageOf(fd); sub != nil && reaches(sub) {
			t.walk = append(t.walk, fd)
		}
	}
	scanTypes.Store(md.FullName(), t)
	return t
}

// messageOf is the message type a field holds (a map's values), or nil.
func messageOf(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		return fd.MapValue().Message()
	}
	return fd.Message()
}

// reaches reports whether a message of type md can hold, at any depth, a
// field marked sensitive or an Any (which can hold anything).
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
	if md.FullName() == anyName {
		return true
	}
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if sensitive(fd) {
			return true
		}
		if sub := messageOf(fd); sub != nil && search(sub, seen) {
			return true
		}
	}
	return false
}
