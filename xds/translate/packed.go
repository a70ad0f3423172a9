package translate

import (
	"runtime"
	"sync"
	"weak"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/protowalk"
)

// The checks walk every typed config, and ValidateAll does not look into an
// Any, so the walk unpacked every Any again: at 10,000 hosts unmarshalling
// the payloads was four fifths of Check (docs/performance.md). toAny holds
// each typed config unpacked, just validated, so it walks it there, and
// keeps its findings for the check that meets the Any: the same findings,
// in the same place of the walk, as unpacking it would give, since the
// payload is that message's bytes.
//
// The findings are kept in packedFindings, keyed by the Any, weakly: an Any
// nothing references any more drops its entry, and the first walk that meets
// the Any takes its entry out (a typed config is walked once per build, as
// part of its resource; an Any walked again, or one whose bytes changed
// since it was packed, is unpacked as before). It is one of the package's
// three globals (doc.go) and changes no result: without it every Any is
// unpacked.

// packedFindings maps weak.Pointer[anypb.Any] to *packedEntry.
var packedFindings sync.Map

// packedEntry is what walking a payload toAny packed found.
type packedEntry struct {
	typeURL string
	value   []byte // the Any's Value when packed: its bytes, not a copy
	found   []finding
}

// walkPayload walks msg, a payload toAny validated, for findings.
func walkPayload(msg proto.Message) []finding {
	c := newChecker("")
	root := true
	c.walk(msg, func(m proto.Message, in *anypb.Any) error {
		if root {
			// The payload's own ValidateAll is toAny's, just passed;
			// visit's would repeat it.
			root = false
			return c.inspect(m)
		}
		return c.visit(m, in)
	})
	return c.found
}

// keepPacked keeps found, the findings of a's payload, for the walk that
// meets a.
func keepPacked(a *anypb.Any, found []finding) {
	key := weak.Make(a)
	packedFindings.Store(key, &packedEntry{typeURL: a.GetTypeUrl(), value: a.GetValue(), found: found})
	runtime.AddCleanup(a, func(k weak.Pointer[anypb.Any]) { packedFindings.Delete(k) }, key)
}

// takePacked returns the findings recorded for a's payload and forgets
// them; ok is false if none are, or a's type or bytes are no longer those
// packed (a.Value given other bytes since), and then the walk unpacks a.
func takePacked(a *anypb.Any) (_ []finding, ok bool) {
	v, ok := packedFindings.LoadAndDelete(weak.Make(a))
	if !ok {
		return nil, false
	}
	e := v.(*packedEntry)
	if e.typeURL != a.GetTypeUrl() || !sameSlice(e.value, a.GetValue()) {
		return nil, false
	}
	return e.found, true
}

// packedAny splices the findings recorded for a's payload, if any, and
// then leaves the payload unwalked.
func (c *checker) packedAny(a *anypb.Any) error {
	found, ok := takePacked(a)
	if !ok {
		return nil
	}
	c.splice(found)
	return protowalk.ErrSkipChildren
}

// sameSlice reports whether a and b are the same bytes in memory (not
// merely equal ones): an Any whose Value was replaced since it was packed
// is not the Any packed.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
