package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzLoadWithCache loads one text and then another through one cache and
// checks the second load against a load without a cache: the same objects
// with the same positions, the same errors with the same file:line, and the
// same findings of Validate. The seeds pair each test file with itself
// shifted down, edited, cut short or broken.
func FuzzLoadWithCache(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	texts := []string{positionsYAML, ccpGateway, resolveSecrets, gwDoc("  - port: {number: 443, protocol: HTTPS}\n    hosts: [a]\n")}
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
		for _, data := range [][]byte{first, second} {
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
			if d := cmp.Diff(errString(cold.Validate()), errString(warm.Validate())); d != "" {
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
