package dump

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/translate"
)

// WriteConfigDumpJSON writes exactly what ConfigDumpJSON returns, without
// building the ConfigDump: each resource is wrapped in its dump entry on its
// own (redacted only if it holds something sensitive), rendered by protojson
// and indented at its depth by up to GOMAXPROCS workers, and written in
// order. ConfigDumpJSON marshalled every resource into an Any, copied the
// whole dump to redact it (unmarshalling every Any), had protojson
// unmarshal every Any again, and compacted and indented the 2 MB document
// (at 200 hosts) on one core: a third of `translate`'s CPU.
func WriteConfigDumpJSON(w io.Writer, r *translate.Resources, showSecrets bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	sections := dumpSections(r)
	rd := newRenderer(showSecrets)
	// The layout json.Indent(.., "", "  ") gives the document: configs at
	// depth 2, a section's entries at depth 4.
	lists := make([]list, len(sections))
	for i, s := range sections {
		if _, err := s.listField(); err != nil {
			return err
		}
		md := s.dump.ProtoReflect().Descriptor()
		wrap := s.wrap
		lists[i] = list{name: string(s.field), items: s.items, indent: "\n        ",
			render: func(m proto.Message, out *rendering) error {
				return rd.renderEntry(m, wrap, out)
			},
			open: func(w *bufio.Writer, empty bool) {
				if i > 0 {
					w.WriteString(",")
				}
				fmt.Fprintf(w, "\n    {\n      \"@type\": %q", "type.googleapis.com/"+string(md.FullName()))
				if empty {
					w.WriteString("\n    }")
					return
				}
				fmt.Fprintf(w, ",\n      %q: [", string(s.field))
			},
			close: func(w *bufio.Writer) { w.WriteString("\n      ]\n    }") },
		}
	}
	bw.WriteString("{\n  \"configs\": [")
	if err := writeLists(bw, lists); err != nil {
		return err
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}

// renderEntry renders one resource's dump entry at depth 4 of the config
// dump: what json.Indent(.., "", "  ") makes of protojson's rendering of
// it. wrap makes the entry from the resource's name and its Any.
//
// protojson renders an Any by unmarshalling its payload and writing
// "@type" and then the payload's fields; packing the resource only for
// protojson to unpack it again was a marshal and an unmarshal of every
// resource. So the entry is rendered with an empty payload of the
// resource's type, {"@type":"URL"}, and the resource's own fields, rendered
// directly, go in after the type: the same bytes once indented.
func (rd *renderer) renderEntry(m proto.Message, wrap func(string, *anypb.Any) proto.Message, out *rendering) error {
	name := nameOf(m)
	return rd.render(m, out, func(e jsonEncoder, m proto.Message, out *rendering) error {
		whole := func(m proto.Message, out *bytes.Buffer) error { return e.renderEntryWhole(m, name, wrap, out) }
		if renderSplit(m, out, whole, e.renderEntryElement) {
			return nil
		}
		return whole(m, out.tail())
	})
}

// renderEntryElement renders an element of a resource's list at prefix.
func (e jsonEncoder) renderEntryElement(m proto.Message, prefix string, out *bytes.Buffer) error {
	return e.marshal(m, func(b []byte) error { return indentTo(out, b, prefix, "  ") })
}

// renderEntryWhole renders m's dump entry at depth 4 (see renderEntry).
func (e jsonEncoder) renderEntryWhole(m proto.Message, name string, wrap func(string, *anypb.Any) proto.Message, out *bytes.Buffer) error {
	url := "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())
	return e.marshal(m, func(fields []byte) error {
		fields = bytes.TrimSpace(fields)
		if len(fields) < 2 || fields[0] != '{' || fields[len(fields)-1] != '}' {
			return fmt.Errorf("protojson rendered %s as %.20q, not an object", url, fields)
		}
		fields = bytes.TrimSpace(fields[1 : len(fields)-1])
		return e.marshal(wrap(name, &anypb.Any{TypeUrl: url}), func(entry []byte) error {
			return spliceAny(out, entry, url, fields)
		})
	})
}

// spliceAny writes entry, indented at depth 4, with the fields of the
// payload (a JSON object's members) inside its one empty Any of type url.
// The Any is the last `{"@type":"URL"}` of entry: in a string of entry
// (a name) its quotes would be escaped, and protojson's single-line output
// varies its whitespace only after commas (prepareNext in its
// internal/encoding/json), of which the marker has none.
func spliceAny(out *bytes.Buffer, entry []byte, url string, fields []byte) error {
	marker := []byte(`{"@type":"` + url + `"}`)
	at := bytes.LastIndex(entry, marker)
	if at < 0 {
		return fmt.Errorf("no empty %s in the rendered entry", url)
	}
	whole := make([]byte, 0, len(entry)+len(fields)+1)
	whole = append(whole, entry[:at+len(marker)-1]...) // up to the Any's closing brace
	if len(fields) > 0 {
		whole = append(whole, ',')
		whole = append(whole, fields...)
	}
	whole = append(whole, entry[at+len(marker)-1:]...)
	// indentTo drops protojson's varying whitespace as Compact would.
	return indentTo(out, whole, "        ", "  ")
}
