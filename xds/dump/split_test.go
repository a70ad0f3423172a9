package dump

import (
	"bytes"
	"fmt"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/translate"
)

// longListener is the rich proxy's resources with its first listener's
// chains repeated to n, names with characters JSON and HTML escape, every
// tenth chain inlining a private key.
func longListener(t *testing.T, n int, name func(i int) string) *translate.Resources {
	t.Helper()
	r := rich(t)
	var l *listenerv3.Listener
	for _, cand := range r.Listeners {
		if len(cand.GetFilterChains()) > 0 {
			l = proto.Clone(cand).(*listenerv3.Listener)
			break
		}
	}
	if l == nil {
		t.Fatal("the rich proxy has no listener with chains")
	}
	keyed := keyedChains(t)
	base := l.FilterChains
	l.FilterChains = nil
	for i := range n {
		fc := proto.Clone(base[i%len(base)]).(*listenerv3.FilterChain)
		if i%10 == 9 {
			fc = keyed()
		}
		fc.Name = name(i)
		l.FilterChains = append(l.FilterChains, fc)
	}
	r.Listeners = []*listenerv3.Listener{l}
	return r
}

// TestSplitRenderingEqualsWhole: a listener of more than splitMin chains,
// rendered by parts by both streamed writers, comes out as the
// whole-document renderers make it, redacted or not; so does one holding
// the placeholder's marker, which is rendered whole.
func TestSplitRenderingEqualsWhole(t *testing.T) {
	inputs := map[string]struct {
		r     *translate.Resources
		split bool
	}{
		"300 chains": {longListener(t, 300, func(i int) string { return fmt.Sprintf("chain <%d> & \"q\" \u2028", i) }), true},
		"a chain named the marker": {longListener(t, 300, func(i int) string {
			if i == 7 {
				return splitMarker
			}
			return fmt.Sprintf("c%d", i)
		}), false},
	}
	for name, in := range inputs {
		l := in.r.Listeners[0]
		e := jsonEncoder{}
		if got := renderSplit(l, newRendering(), func(m proto.Message, out *bytes.Buffer) error { return e.renderEscaped(m, "    ", out) }, e.renderEscaped); got != in.split {
			t.Errorf("%s: renderSplit = %v, want %v", name, got, in.split)
		}
		for _, show := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/show-secrets=%v", name, show), func(t *testing.T) {
				want, err := ConfigDumpJSON(in.r, show)
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				if err := WriteConfigDumpJSON(&got, in.r, show); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(want, got.Bytes()) {
					t.Error("WriteConfigDumpJSON differs from ConfigDumpJSON")
				}
				if want, err = JSON(in.r, show); err != nil {
					t.Fatal(err)
				}
				got.Reset()
				if err := WriteJSON(&got, in.r, show); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(want, got.Bytes()) {
					t.Error("WriteJSON differs from JSON")
				}
			})
		}
	}
}

// TestSplitRenderingError: a chain that does not render, among more than
// splitMin, fails both writers with the error they give for the same chain
// in a listener rendered whole.
func TestSplitRenderingError(t *testing.T) {
	withBad := func(n int) *translate.Resources {
		r := longListener(t, n, func(i int) string { return fmt.Sprintf("c%d", i) })
		r.Listeners[0].FilterChains[n/2] = unknownAnyListeners()[0].FilterChains[0]
		return r
	}
	long, short := withBad(300), withBad(10)
	for _, show := range []bool{false, true} {
		want := WriteConfigDumpJSON(&bytes.Buffer{}, short, show)
		if got := WriteConfigDumpJSON(&bytes.Buffer{}, long, show); want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("WriteConfigDumpJSON (show-secrets=%v) = %v, want %v (not nil)", show, got, want)
		}
		want = WriteJSON(&bytes.Buffer{}, short, show)
		if got := WriteJSON(&bytes.Buffer{}, long, show); want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("WriteJSON (show-secrets=%v) = %v, want %v (not nil)", show, got, want)
		}
	}
}
