package dump

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/translate"
)

// WriteJSON writes exactly what JSON returns, without holding the document:
// each resource is rendered on its own (redacted, protojson, HTML-escaped
// and indented as JSON's json.Marshal and json.Indent would), by up to
// GOMAXPROCS workers, and written in order as soon as it and every resource
// before it are done. At 10,000 hosts JSON held the document three times
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
	scan := &keyScan{}
	bw.WriteString("{")
	for i, s := range sections {
		if i > 0 {
			bw.WriteString(",")
		}
		fmt.Fprintf(bw, "\n  %q: ", s.name)
		if err := writeList(bw, s.msgs, showSecrets, scan); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
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

// writeList writes one list at nesting depth 1, its items at depth 2.
func writeList(w *bufio.Writer, ms []proto.Message, showSecrets bool, scan *keyScan) error {
	if len(ms) == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	w.WriteString("[")
	err := renderOrdered(ms, func(m proto.Message, buf *bytes.Buffer) error {
		return renderItem(m, showSecrets, scan, buf)
	}, func(i int, b []byte) error {
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n    ")
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.WriteString("\n  ]")
	return err
}

// renderItem renders one resource as an item of a list at depth 2 of the
// document: what json.Marshal (which HTML-escapes a RawMessage while
// compacting it) followed by json.Indent(.., "", "  ") makes of it.
func renderItem(m proto.Message, showSecrets bool, scan *keyScan, out *bytes.Buffer) error {
	if !showSecrets && scan.holdsKeys(m.ProtoReflect()) {
		var err error
		if m, err = redact(m); err != nil {
			return err
		}
	}
	return marshalJSON(m, func(b []byte) error {
		escaped := itemBuffers.Get().(*bytes.Buffer)
		defer itemBuffers.Put(escaped)
		escaped.Reset()
		json.HTMLEscape(escaped, b)
		return indentTo(out, escaped.Bytes(), "    ", "  ")
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

// marshalJSON renders m with protojson as the dumps do (proto field
// names) into a pooled buffer, and hands it to use.
func marshalJSON(m proto.Message, use func([]byte) error) error {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	b, err := protojson.MarshalOptions{UseProtoNames: true}.MarshalAppend((*bp)[:0], m)
	*bp = b
	if err != nil {
		return err
	}
	return use(b)
}

// renderOrdered renders every message with render, in parallel, and hands
// the results to emit in order. It stops at the first error.
func renderOrdered(ms []proto.Message, render func(proto.Message, *bytes.Buffer) error, emit func(int, []byte) error) error {
	workers := min(runtime.GOMAXPROCS(0), len(ms))
	type result struct {
		buf *bytes.Buffer
		err error
	}
	// Each item gets a buffered channel its worker fills once. A token per
	// item in flight, returned once the item is written, bounds the memory
	// held by items rendered ahead of the writer.
	slots := make([]chan result, len(ms))
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	tokens := make(chan struct{}, 4*workers)
	next := make(chan int)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				buf := itemBuffers.Get().(*bytes.Buffer)
				buf.Reset()
				slots[i] <- result{buf: buf, err: render(ms[i], buf)}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range ms {
			select {
			case tokens <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case next <- i:
			case <-stop:
				return
			}
		}
	}()
	var err error
	for i := range ms {
		res := <-slots[i]
		if err = res.err; err == nil {
			err = emit(i, res.buf.Bytes())
		}
		itemBuffers.Put(res.buf)
		if err != nil {
			break
		}
		<-tokens
	}
	close(stop)
	wg.Wait()
	return err
}
