package dump

import (
	"bytes"
	"fmt"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"
)

// TestRenderingRewind: a rendering cut back to a mark holds what it held
// then, whether parts were added since or not, and counts and writes the
// bytes of all its parts.
func TestRenderingRewind(t *testing.T) {
	type step func(r *rendering)
	write := func(s string) step { return func(r *rendering) { r.tail().WriteString(s) } }
	parts := func(ss ...string) step {
		return func(r *rendering) {
			var bufs []*bytes.Buffer
			for _, s := range ss {
				bufs = append(bufs, bytes.NewBufferString(s))
			}
			r.appendParts(bufs)
		}
	}
	cases := map[string]struct {
		before, after []step
		want          string // after the rewind
		wantUnrewound string
	}{
		"nothing after the mark": {
			before: []step{write("a")}, want: "a", wantUnrewound: "a",
		},
		"within the one part": {
			before: []step{write("ab")}, after: []step{write("cd")}, want: "ab", wantUnrewound: "abcd",
		},
		"parts added after the mark": {
			before: []step{write("head")}, after: []step{write("<"), parts("x", "y"), write(">")},
			want: "head", wantUnrewound: "head<xy>",
		},
		"a mark after parts": {
			before: []step{write("a"), parts("b", "c"), write("d")}, after: []step{write("e"), parts("f"), write("g")},
			want: "abcd", wantUnrewound: "abcdefg",
		},
		"a mark at the start": {
			after: []step{parts("x"), write("y")}, want: "", wantUnrewound: "xy",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRendering()
			defer r.release()
			for _, s := range c.before {
				s(r)
			}
			m := r.mark()
			for _, s := range c.after {
				s(r)
			}
			checkRendering(t, "before the rewind", r, c.wantUnrewound)
			r.rewind(m)
			checkRendering(t, "after the rewind", r, c.want)
			r.tail().WriteString("!")
			checkRendering(t, "written to after the rewind", r, c.want+"!")
		})
	}
}

func checkRendering(t *testing.T, when string, r *rendering, want string) {
	t.Helper()
	if got := string(r.bytes()); got != want {
		t.Errorf("%s: bytes = %q, want %q", when, got, want)
	}
	if r.len() != len(want) {
		t.Errorf("%s: len = %d, want %d", when, r.len(), len(want))
	}
	var w bytes.Buffer
	if err := r.writeTo(&w); err != nil || w.String() != want {
		t.Errorf("%s: writeTo wrote %q (%v), want %q", when, w.String(), err, want)
	}
}

// TestRedactionRetryAcrossParts: a listener rendered by parts whose one
// keyed chain (first, in the middle, last) is met by the watching render
// is undone back to where its rendering began, parts and all, and
// rendered redacted: after what the rendering held before, the bytes of
// its redacted copy rendered whole, by parts again, and no key. Dropping
// only the last part on the retry, or cutting back to the start of the
// rendering, fails it.
func TestRedactionRetryAcrossParts(t *testing.T) {
	const n = 300
	for name, at := range map[string]int{"first chain": 0, "middle chain": n / 2, "last chain": n - 1} {
		t.Run(name, func(t *testing.T) {
			r := longListener(t, n, func(i int) string { return fmt.Sprintf("c%d", i) })
			l := r.Listeners[0]
			keyed := keyedChains(t)
			for i, fc := range l.FilterChains {
				if i%10 == 9 { // longListener's keyed chains
					l.FilterChains[i] = &listenerv3.FilterChain{Name: fc.Name}
				}
			}
			kc := keyed()
			kc.Name = l.FilterChains[at].Name
			l.FilterChains[at] = kc
			red, err := redact(l)
			if err != nil {
				t.Fatal(err)
			}
			listeners := dumpSections(r)[2]
			if listeners.field != "dynamic_listeners" {
				t.Fatalf("section 2 is %s", listeners.field)
			}
			renders := map[string]struct {
				render func(*renderer, proto.Message, *rendering) error
				whole  func(jsonEncoder, proto.Message, *bytes.Buffer) error
			}{
				"config dump entry": {
					func(rd *renderer, m proto.Message, out *rendering) error {
						return rd.renderEntry(m, listeners.wrap, out)
					},
					func(e jsonEncoder, m proto.Message, out *bytes.Buffer) error {
						return e.renderEntryWhole(m, nameOf(m), listeners.wrap, out)
					},
				},
				"resources item": {
					func(rd *renderer, m proto.Message, out *rendering) error { return rd.renderItem(m, out) },
					func(e jsonEncoder, m proto.Message, out *bytes.Buffer) error { return e.renderEscaped(m, "    ", out) },
				},
			}
			for rname, rr := range renders {
				var want bytes.Buffer
				want.WriteString("before,")
				if err := rr.whole(jsonEncoder{}, red, &want); err != nil {
					t.Fatal(err)
				}
				out := newRendering()
				out.tail().WriteString("before,")
				if err := rr.render(newRenderer(false), l, out); err != nil {
					t.Fatalf("%s: %v", rname, err)
				}
				got := out.bytes()
				if !bytes.Equal(got, want.Bytes()) {
					t.Errorf("%s: the retried rendering (%d bytes) differs from the redacted copy's (%d)", rname, len(got), want.Len())
				}
				if bytes.Contains(got, []byte("SECRET-KEY")) {
					t.Errorf("%s: the key is printed", rname)
				}
				if len(out.parts) < 3 {
					t.Errorf("%s: %d parts, want the redacted copy rendered by parts", rname, len(out.parts))
				}
				out.release()
			}
		})
	}
}

// bytes returns the rendering as one slice: the tail itself when it is
// the only part, else a copy.
func (r *rendering) bytes() []byte {
	if len(r.parts) == 1 {
		return r.tail().Bytes()
	}
	out := make([]byte, 0, r.len())
	for _, p := range r.parts {
		out = append(out, p.buf.Bytes()...)
	}
	return out
}
