package dump

import (
	"bytes"
	"io"
)

// rendering is one item's rendered bytes, kept in the parts they were
// made in and written out part by part. A resource rendered whole is one
// part; a resource rendered by parts (split.go) is the text before its
// long list, the list's chunks as the workers rendered them, and the text
// after. At 10,000 hosts the one listener is 70 MB of chunks: joining
// them into one buffer before writing it was a 70 MB allocation, its
// page faults and a copy of every byte, for nothing the writer needed
// (docs/performance.md, "translate, fifth round").
//
// Writes go to the last part (tail). A rendering is undone back to a mark
// (the redaction retry in renderer.render): the parts after the mark's are
// dropped and the mark's part is cut to its length then.
type rendering struct {
	parts []renderPart
}

// renderPart is one part; pooled tells a buffer from itemBuffers, given
// back by release, from a chunk rendered for this rendering alone, left
// to the collector (a chunk is megabytes: the pool would keep it).
type renderPart struct {
	buf    *bytes.Buffer
	pooled bool
}

// renderMark is a point of a rendering to come back to: the number of its
// parts and the length of the last.
type renderMark struct{ parts, len int }

// newRendering returns an empty rendering whose tail is a pooled buffer.
func newRendering() *rendering {
	r := &rendering{}
	r.newTail()
	return r
}

func (r *rendering) newTail() {
	buf := itemBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	r.parts = append(r.parts, renderPart{buf: buf, pooled: true})
}

// tail is the buffer written to.
func (r *rendering) tail() *bytes.Buffer { return r.parts[len(r.parts)-1].buf }

// appendParts adds bufs as parts, in order and uncopied, and a fresh tail
// after them. The rendering owns them from then on.
func (r *rendering) appendParts(bufs []*bytes.Buffer) {
	for _, b := range bufs {
		r.parts = append(r.parts, renderPart{buf: b})
	}
	r.newTail()
}

// len is the number of bytes rendered.
func (r *rendering) len() int {
	n := 0
	for _, p := range r.parts {
		n += p.buf.Len()
	}
	return n
}

// mark returns the rendering's current end.
func (r *rendering) mark() renderMark {
	return renderMark{parts: len(r.parts), len: r.tail().Len()}
}

// rewind undoes everything rendered after m: the parts added since are
// dropped (pooled ones given back) and m's last part is cut to its length.
func (r *rendering) rewind(m renderMark) {
	for _, p := range r.parts[m.parts:] {
		if p.pooled {
			itemBuffers.Put(p.buf)
		}
	}
	clear(r.parts[m.parts:]) // no references left to dropped chunks
	r.parts = r.parts[:m.parts]
	r.tail().Truncate(m.len)
}

// writeTo writes the parts in order.
func (r *rendering) writeTo(w io.Writer) error {
	for _, p := range r.parts {
		if p.buf.Len() == 0 {
			continue
		}
		if _, err := w.Write(p.buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// release gives the pooled parts back; the rendering is not used after.
func (r *rendering) release() {
	for _, p := range r.parts {
		if p.pooled {
			itemBuffers.Put(p.buf)
		}
	}
	clear(r.parts)
	r.parts = r.parts[:0]
}
