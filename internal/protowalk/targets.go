package protowalk

import (
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Targets are the message types a walk looks for. A Walker with Targets
// walks only the fields whose type can hold one of them, or an Any (which
// can hold anything), at some depth: a check that looks at regexes and
// references need not descend into the google.protobuf.Struct of every
// access log's JSON format, which was a third of translate's walks at
// 10,000 hosts (docs/performance.md).
type Targets struct {
	names  map[protoreflect.FullName]bool
	fields sync.Map // protoreflect.MessageDescriptor -> []protoreflect.FieldDescriptor
	reach  sync.Map // protoreflect.FullName -> bool
}

// NewTargets is the set of the named message types.
func NewTargets(names ...protoreflect.FullName) *Targets {
	t := &Targets{names: map[protoreflect.FullName]bool{}}
	for _, n := range names {
		t.names[n] = true
	}
	return t
}

// messageFields is messageFields(md) without the fields whose type cannot
// hold a target.
func (t *Targets) messageFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	if fs, ok := t.fields.Load(md); ok {
		return fs.([]protoreflect.FieldDescriptor)
	}
	var fs []protoreflect.FieldDescriptor
	for _, fd := range messageFields(md) {
		if t.reaches(valueMessage(fd)) {
			fs = append(fs, fd)
		}
	}
	t.fields.Store(md, fs)
	return fs
}

// valueMessage is the message type a field holds (a map's values).
func valueMessage(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		return fd.MapValue().Message()
	}
	return fd.Message()
}

// reaches reports whether a message of type md is, or can hold at any
// depth, a target or an Any.
func (t *Targets) reaches(md protoreflect.MessageDescriptor) bool {
	if r, ok := t.reach.Load(md.FullName()); ok {
		return r.(bool)
	}
	// A search of its own for each type: a negative answer found inside a
	// cycle is not final for the types of the cycle, so only md's is kept.
	r := t.search(md, map[protoreflect.FullName]bool{})
	t.reach.Store(md.FullName(), r)
	return r
}

// search walks the types reachable from md, each once.
func (t *Targets) search(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	name := md.FullName()
	if name == anyName || t.names[name] {
		return true
	}
	if seen[name] {
		return false
	}
	seen[name] = true
	for _, fd := range messageFields(md) {
		if t.search(valueMessage(fd), seen) {
			return true
		}
	}
	return false
}
