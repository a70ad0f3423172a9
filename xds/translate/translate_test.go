package translate

import (
	"testing"

	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// TestTranslateRich translates an IR that uses every feature and checks
// that the output passes Check and has every resource.
func TestTranslateRich(t *testing.T) {
	r, err := Translate(translatetest.RichProxy())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	if err := Check(r); err != nil {
		t.Fatalf("Check: %v", err)
	}
	got := map[string]int{
		"listeners": len(r.Listeners), "routes": len(r.Routes), "clusters": len(r.Clusters),
		"endpoints": len(r.Endpoints), "secrets": len(r.Secrets),
	}
	want := map[string]int{"listeners": 3, "routes": 3, "clusters": 6, "endpoints": 1, "secrets": 4}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: got %d, want %d", k, got[k], n)
		}
	}
}

// TestTranslateDeterministic translates the same IR twice and compares the
// deterministic wire bytes of every resource.
func TestTranslateDeterministic(t *testing.T) {
	a, err := Translate(translatetest.RichProxy())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	b, err := Translate(translatetest.RichProxy())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	if ab, bb := wire(t, a), wire(t, b); string(ab) != string(bb) {
		t.Fatalf("two translations of one IR differ")
	}
}

// wire marshals every resource deterministically, in order.
func wire(t *testing.T, r *Resources) []byte {
	t.Helper()
	msgs := r.All()
	var out []byte
	for _, m := range msgs {
		b, err := marshalDeterministic(m)
		if err != nil {
			t.Fatalf("marshal %T: %v", m, err)
		}
		out = append(out, b...)
	}
	return out
}
