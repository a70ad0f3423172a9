package dump

import (
	"bytes"
	"runtime"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A resource with a long list is rendered by parts: at 10,000 hosts the one
// listener of port 443 holds 10,000 filter chains, 70 of the config dump's
// 104 MB, and rendering it whole ran on one core for most of `translate`'s
// rendering (docs/performance.md). The resource is rendered with the list
// cut to one placeholder element, the elements are rendered on every core
// at the placeholder's indentation, and the placeholder is replaced by
// them: the same bytes, since protojson renders a message nested or alone
// alike and the indentation of an element depends only on its depth. The
// chunks stay parts of the rendering (rendering.go), written out as they
// are, not copied into one buffer.

// splitMin is the shortest list rendered by parts: below it the cost of
// rendering twice the little around it is not worth saving.
const splitMin = 64

// splitMarker is the placeholder element's name. Should a resource hold it
// anywhere else, the resource is rendered whole (renderSplit looks for it in
// the rest of the resource and in the elements).
const splitMarker = "trustgate-dump-split-placeholder-6a1f0c"

// elementRenderer renders one element of a list as JSON indented with
// prefix before each of its lines but the first.
type elementRenderer func(m proto.Message, prefix string, out *bytes.Buffer) error

// renderSplit renders m onto out with whole, its longest list's elements
// with elem on every core, as parts of out. It returns false, having
// written nothing, when m has no list to split or rendering a part fails:
// the caller then renders m whole, which meets the failure again and
// reports it as rendering whole always did (the first error in field
// order, which the parts rendered out of order could not tell).
func renderSplit(m proto.Message, out *rendering, whole func(proto.Message, *bytes.Buffer) error, elem elementRenderer) bool {
	pm := m.ProtoReflect()
	fd, name := splitField(pm)
	if fd == nil {
		return false
	}
	shell := pm.Type().New()
	pm.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if f != fd {
			shell.Set(f, v) // shares v: the shell is only read
		}
		return true
	})
	shell.SetUnknown(pm.GetUnknown())
	list := shell.Mutable(fd).List()
	placeholder := list.NewElement()
	placeholder.Message().Set(name, protoreflect.ValueOfString(splitMarker))
	list.Append(placeholder)

	text := itemBuffers.Get().(*bytes.Buffer)
	defer itemBuffers.Put(text)
	text.Reset()
	if whole(shell.Interface(), text) != nil {
		return false // rendered whole by the caller, which reports the error
	}
	start, end, prefix, ok := findPlaceholder(text.Bytes(), string(name.Name()))
	if !ok {
		return false
	}
	parts, ok := renderElements(pm.Get(fd).List(), prefix, elem)
	if !ok {
		return false // rendered whole by the caller, which reports the error
	}
	for _, p := range parts {
		if bytes.Contains(p.Bytes(), []byte(splitMarker)) {
			return false // an element holds the marker: findPlaceholder could not tell it from the placeholder
		}
	}
	out.tail().Write(text.Bytes()[:start])
	out.appendParts(parts)
	out.tail().Write(text.Bytes()[end:])
	return true
}

// splitField is m's longest repeated message field of at least splitMin
// elements whose element type has a string field (name) outside any oneof
// to mark the placeholder with; nil if it has none.
func splitField(m protoreflect.Message) (fd, name protoreflect.FieldDescriptor) {
	longest := splitMin - 1
	m.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !f.IsList() || f.Message() == nil || v.List().Len() <= longest {
			return true
		}
		if n := stringField(f.Message()); n != nil {
			fd, name, longest = f, n, v.List().Len()
		}
		return true
	})
	return fd, name
}

// stringField is md's first singular string field outside any oneof.
func stringField(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	fs := md.Fields()
	for i := range fs.Len() {
		f := fs.Get(i)
		if f.Kind() == protoreflect.StringKind && f.Cardinality() != protoreflect.Repeated && f.ContainingOneof() == nil {
			return f
		}
	}
	return nil
}

// findPlaceholder finds, in the indented text, the placeholder element
// {"NAME": "MARKER"} as indentTo lays it out, and returns its bounds and
// the indentation of its line; ok is false unless the marker is there once
// and laid out as expected.
func findPlaceholder(text []byte, name string) (start, end int, prefix string, ok bool) {
	marker := []byte(`"` + splitMarker + `"`)
	at := bytes.Index(text, marker)
	if at < 0 || bytes.Contains(text[at+len(marker):], marker) {
		return 0, 0, "", false
	}
	open := bytes.LastIndexByte(text[:at], '{')
	if open < 0 {
		return 0, 0, "", false
	}
	line := bytes.LastIndexByte(text[:open], '\n') + 1
	indent := text[line:open]
	if len(bytes.Trim(indent, " ")) != 0 {
		return 0, 0, "", false
	}
	prefix = string(indent)
	want := "{\n" + prefix + `  "` + name + `": "` + splitMarker + "\"\n" + prefix + "}"
	if !bytes.HasPrefix(text[open:], []byte(want)) {
		return 0, 0, "", false
	}
	return open, open + len(want), prefix, true
}

// renderElements renders the list's elements, joined as in a JSON array
// indented at prefix, in chunks on every core; the chunks are in order. ok
// is false if an element fails to render.
func renderElements(l protoreflect.List, prefix string, elem elementRenderer) (_ []*bytes.Buffer, ok bool) {
	n := l.Len()
	chunks := min(n, 8*runtime.GOMAXPROCS(0))
	parts := make([]*bytes.Buffer, chunks)
	errs := make([]error, chunks)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(chunks, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for c := range next {
				parts[c], errs[c] = renderChunk(l, c*n/chunks, (c+1)*n/chunks, prefix, elem)
			}
		})
	}
	for c := range chunks {
		next <- c
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, false
		}
	}
	return parts, true
}

// renderChunk renders elements from..to-1, each but the first after a
// comma and a new line at prefix.
//
// The chunk's buffer is sized from its first element: at 10,000 hosts a
// chunk is megabytes, and growing a bytes.Buffer by doubling clears each
// new array (bytes.growSlice), so a chunk touched about twice its size of
// fresh memory, page faults included (memclrNoHeapPointers under
// indentTo was 6% of `translate`'s CPU, docs/performance.md). An estimate
// short of the chunk only means the doublings resume.
func renderChunk(l protoreflect.List, from, to int, prefix string, elem elementRenderer) (*bytes.Buffer, error) {
	buf := &bytes.Buffer{}
	for i := from; i < to; i++ {
		if i > 0 {
			buf.WriteString(",\n")
			buf.WriteString(prefix)
		}
		if err := elem(l.Get(i).Message().Interface(), prefix, buf); err != nil {
			return nil, err
		}
		if i == from && to-from > 1 {
			growFresh(buf, (buf.Len()+2+len(prefix))*(to-from-1)*9/8)
		}
	}
	return buf, nil
}

// growFresh is out.Grow(n) without bytes.Buffer's clearing of the new
// array: make leaves a large array of fresh pages untouched (the runtime
// knows them zero), so only the bytes written to are faulted in.
func growFresh(out *bytes.Buffer, n int) {
	if out.Available() >= n {
		return
	}
	b := make([]byte, out.Len(), out.Len()+n)
	copy(b, out.Bytes())
	*out = *bytes.NewBuffer(b)
}
