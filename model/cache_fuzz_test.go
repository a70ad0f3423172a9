package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzLoadWithCache loads one text, another, the first again and the second
// again through one cache, and checks each load against a load without a
// cache (the third and fourth reuse entries a move replaced): the same objects
// with the same positions, the same errors with the same file:line, and the
// same findings of Validate (through the cache's validation memo on the
// cached side). The seeds pair each test file with itself
// shifted down, edited, cut short or broken.
func FuzzLoadWithCache(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	texts := []string{positionsYAML, ccpGateway, resolveSecrets, gwDoc("  - port: {number: 443, protocol: HTTPS}\n    hosts: [a]\n"), badFieldsVS}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, t := range texts {
		f.Add([]byte(t), []byte("# inserted\n\n"+t))
		f.Add([]byte(t), []byte(t+"---\n"+t))
		f.Add([]byte(t), []byte(t[:len(t)/2]))
		f.Add([]byte(t+"---\na: [1\n"), []byte(t))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, first, second []byte) {
		p := filepath.Join(dir, "f.yaml")
		opts := LoadOptions{Paths: []string{p}}
		cache := NewCache()
		for _, data := range [][]byte{first, second, first, second} {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			warm, warmErr := LoadWith(opts, cache)
			cold, coldErr := Load(opts)
			if d := cmp.Diff(errString(coldErr), errString(warmErr)); d != "" {
				t.Fatalf("errors (-cold +cached):\n%s", d)
			}
			if d := cmp.Diff(cold, warm, cmpopts.IgnoreUnexported(Config{})); d != "" {
				t.Fatalf("objects (-cold +cached):\n%s", d)
			}
			if d := cmp.Diff(errString(cold.Validate()), errString(warm.ValidateWith(cache))); d != "" {
				t.Fatalf("validation (-cold +cached):\n%s", d)
			}
			if warmErr != nil {
				cache.Abort()
			} else {
				cache.Commit()
			}
		}
	})
}

// badFieldsVS is a document the decoder has findings about (an unknown
// field, a type error), which the cache keeps with their lines.
const badFieldsVS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v, namespace: edge}
spec:
  hosts: [a.example.com]
  gateways: [gw]
  htp: []
  http:
  - route: [{destination: {host: x.internal, port: {number: 8o80}}}]
`

// TestCacheKeepsMovedDocument: a document that moved (lines inserted above
// it) is copied by the load that sees the move, and the loads after it
// reuse that copy as they would an unmoved document.
func TestCacheKeepsMovedDocument(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.yaml")
	opts := LoadOptions{Paths: []string{p}}
	cache := NewCache()
	var got []*VirtualService
	text := gwDoc("  - port: {number: 443, protocol: HTTPS}\n    hosts: [a]\n") + "---\n" + badFieldsVS
	for _, text := range []string{text, "# inserted\n" + text, "# inserted\n" + text} {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadWith(opts, cache)
		if err == nil {
			t.Fatal("the document's findings are errors; got none")
		}
		cache.Abort()
		got = append(got, cfg.VirtualServices[0])
	}
	if got[0] == got[1] || got[0].Pos.Line+1 != got[1].Pos.Line {
		t.Errorf("the moved document was not moved: lines %d then %d", got[0].Pos.Line, got[1].Pos.Line)
	}
	if got[1] != got[2] {
		t.Error("the load after the move copied the document again")
	}
}
