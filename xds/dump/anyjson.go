package dump

import (
	"bytes"
	"sync/atomic"

	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/internal/anymemo"
)

// renderer is one streamed render's state, shared by its workers: which
// typed configs hold keys, and the rendering of typed configs met again.
type renderer struct {
	showSecrets bool
	scan        keyScan
	anys        anyJSON
}

func newRenderer(showSecrets bool) *renderer {
	return &renderer{showSecrets: showSecrets, anys: newAnyJSON()}
}

// render renders m into out with do: unredacted when it holds nothing
// redact would change, else its redacted copy, exactly as rendering after
// the key scan did. The key scan unmarshalled every distinct typed config
// only to find none held a key (trustgate sends keys over SDS), and then
// the render unmarshalled them again; so m is rendered first by an encoder
// that watches for set sensitive fields, and only when it meets one (or
// fails, or leaves a part to protojson, which does not say) is the render
// undone and m scanned, redacted and rendered as before. A set sensitive
// field is what the key scan looks for; an Any that does not unmarshal,
// the scan's other answer, fails the encoder.
//
// A resource rendered by parts (split.go) is undone whole: every part
// added since the render began goes, the first is cut back.
func (rd *renderer) render(m proto.Message, out *rendering, do func(jsonEncoder, proto.Message, *rendering) error) error {
	if rd.showSecrets {
		return do(jsonEncoder{anys: &rd.anys}, m, out)
	}
	var sawKey atomic.Bool
	start := out.mark()
	if err := do(jsonEncoder{anys: &rd.anys, keys: &sawKey}, m, out); err == nil && !sawKey.Load() {
		return nil
	}
	out.rewind(start)
	if rd.scan.holdsKeys(m.ProtoReflect()) {
		var err error
		if m, err = redact(m); err != nil {
			return err
		}
	}
	return do(jsonEncoder{anys: &rd.anys}, m, out)
}

// anyJSON remembers how typed configs met more than once render: the
// chains of a listener repeat the same TLS context, router, retry
// predicate and access log (whose JSON format is a google.protobuf.Struct
// of a dozen fields), each unmarshalled and rendered anew for every chain
// (docs/performance.md). Rendering is a pure function of the Any's type URL
// and bytes, which are the key. A typed config is remembered from its
// second meeting on, so that the configurations unique to a chain (its HCM)
// are not held twice; the first meeting keeps only the Any's own bytes, not
// a copy. A rendering is clean when an encoder watching for keys met none
// in it; a watching encoder takes only clean ones, since it must see every
// key it renders.
type anyJSON struct {
	m *anymemo.Memo[renderedAny]
}

func newAnyJSON() anyJSON { return anyJSON{m: anymemo.New[renderedAny](0)} }

// renderedAny is a typed config's rendering once met twice.
type renderedAny struct {
	json []byte
	// clean: rendered by a watching encoder that met no key in it. A
	// watching encoder taking an unclean one would print a key it never
	// saw (TestWriteConfigDumpJSONRedacts: the same keyed TLS context in
	// three chains).
	clean bool
}

func (c anyJSON) hash(url string, value []byte) uint64 { return c.m.Hash(url, value) }

// get returns the rendering of the typed config of type url and bytes
// value, if it is remembered (and clean, if clean is asked for).
func (c anyJSON) get(h uint64, url string, value []byte, clean bool) []byte {
	r, ok := c.m.Get(h, url, value)
	if !ok || clean && !r.clean {
		return nil
	}
	return r.json
}

// put records that the typed config rendered as json: the first time its
// type and bytes only, the second its rendering too; clean, if the encoder
// watched for keys and met none.
func (c anyJSON) put(h uint64, url string, value, json []byte, clean bool) {
	c.m.Update(h, url, value, func(r *renderedAny, again bool) {
		if !again {
			return
		}
		if r.json == nil {
			r.json = bytes.Clone(json)
		}
		r.clean = r.clean || clean // the same bytes render the same
	})
}
