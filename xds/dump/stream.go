package dump

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/translate"
)

// WriteJSON writes exactly what JSON returns, without holding the document:
// each resource is rendered on its own (redacted, protojson, HTML-escaped
// and indented as JSON's json.Marshal and json.Indent would), by up to
// GOMAXPROCS workers, and written in order as soon as it and every resource
// before it are done (writeLists). At 10,000 hosts JSON held the document three times
// (the RawMessages, their compaction, the indented copy) and ran on one
// core; see docs/performance.md.
func WriteJSON(w io.Writer, r *translate.Resources, showSecrets bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	sections := []struct {
		name string
		msgs []proto.Message
	}{
		{"listeners", messages(r.Listeners)},
		{"routes", messages(r.Routes)},
		{"clusters", messages(r.Clusters)},
		{"endpoints", messages(r.Endpoints)},
		{"secrets", messages(r.Secrets)},
	}
	rd := newRenderer(showSecrets)
	render := rd.renderItem
	// Lists at depth 1 of the document, their items at depth 2.
	lists := make([]list, len(sections))
	for i, s := range sections {
		lists[i] = list{name: s.name, items: s.msgs, render: render, indent: "\n    ",
			open: func(w *bufio.Writer, empty bool) {
				if i > 0 {
					w.WriteString(",")
				}
				fmt.Fprintf(w, "\n  %q: ", s.name)
				if empty {
					w.WriteString("[]")
					return
				}
				w.WriteString("[")
			},
			close: func(w *bufio.Writer) { w.WriteString("\n  ]") },
		}
	}
	bw.WriteString("{")
	if err := writeLists(bw, lists); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func messages[T proto.Message](ms []T) []proto.Message {
	out := make([]proto.Message, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// renderItem renders one resource as an item of a list at depth 2 of the
// document: what json.Marshal (which HTML-escapes a RawMessage while
// compacting it) followed by json.Indent(.., "", "  ") makes of it.
func (rd *renderer) renderItem(m proto.Message, out *rendering) error {
	return rd.render(m, out, func(e jsonEncoder, m proto.Message, out *rendering) error {
		whole := func(m proto.Message, out *bytes.Buffer) error { return e.renderEscaped(m, "    ", out) }
		if renderSplit(m, out, whole, e.renderEscaped) {
			return nil
		}
		return whole(m, out.tail())
	})
}

// renderEscaped renders m HTML-escaped and indented at prefix.
func (e jsonEncoder) renderEscaped(m proto.Message, prefix string, out *bytes.Buffer) error {
	return e.marshal(m, func(b []byte) error {
		escaped := itemBuffers.Get().(*bytes.Buffer)
		defer itemBuffers.Put(escaped)
		escaped.Reset()
		json.HTMLEscape(escaped, b)
		return indentTo(out, escaped.Bytes(), prefix, "  ")
	})
}

// itemBuffers and scratch keep the buffers of items written and of
// protojson's output for the next items: a fresh buffer per item was
// zeroed memory and page faults for every resource (growing buffers and
// clearing them were a fifth of rendering).
var (
	itemBuffers = sync.Pool{New: func() any { return &bytes.Buffer{} }}
	scratch     = sync.Pool{New: func() any { return new([]byte) }}
)

// marshal renders m as protojson does for the dumps (proto field names),
// by the encoder, into a pooled buffer, and hands it to use. What the
// encoder leaves (an error) protojson renders, or fails on with its own
// error; a render watching for keys then counts as having met one, since
// protojson does not say (render goes the way of the key scan).
func (e jsonEncoder) marshal(m proto.Message, use func([]byte) error) error {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	b, err := e.message((*bp)[:0], m.ProtoReflect(), "")
	if err != nil {
		if e.keys != nil {
			e.keys.Store(true)
		}
		b, err = protojson.MarshalOptions{UseProtoNames: true}.MarshalAppend(b[:0], m)
	}
	*bp = b
	if err != nil {
		return err
	}
	return use(b)
}
