package goldentest

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/internal/pembundle"
)

// Update rewrites the output files from the current output (-update).
var Update = flag.Bool("update", false, "rewrite the golden output files from the current output")

// Run runs every testdata/<case>.in.yaml as a subtest named <case>: render
// produces the output, which must equal testdata/<case><outSuffix>.
func Run(t *testing.T, outSuffix string, render func(t *testing.T, in string) []byte) {
	t.Helper()
	cases, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases in testdata")
	}
	for _, in := range cases {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			got := render(t, in)
			out := strings.TrimSuffix(in, ".in.yaml") + outSuffix
			if *Update {
				// A golden file is source, readable like the rest of the tree.
				if err := os.WriteFile(out, got, 0o644); err != nil { //nolint:gosec // G306
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (regenerate with -update and review)", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s differs; regenerate with -update and review the diff:\n%s", out, LineDiff(string(want), string(got)))
			}
		})
	}
}

// PKI is generated certificate material with a label for every PEM block.
type PKI struct {
	Dir    string
	labels map[string]string // DER (as string) -> label
}

// NewPKI starts labelling the material under dir.
func NewPKI(dir string) *PKI { return &PKI{Dir: dir, labels: map[string]string{}} }

// LabelFile labels every block of one file with label, unless labelled
// already (call it first for the names that should win, e.g. CA files).
func (p *PKI) LabelFile(path, label string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	blocks, _ := pembundle.Decode(b)
	for _, blk := range blocks {
		if _, seen := p.labels[string(blk.Bytes)]; !seen {
			p.labels[string(blk.Bytes)] = label
		}
	}
	return nil
}

// LabelTree labels the blocks of every file under root (hidden entries
// skipped) as "<path relative to Dir>#<index>", unless labelled already.
func (p *PKI) LabelTree(root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, string(filepath.Separator)+".") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(p.Dir, path)
		if err != nil {
			return err
		}
		blocks, _ := pembundle.Decode(b)
		for i, blk := range blocks {
			if _, seen := p.labels[string(blk.Bytes)]; !seen {
				p.labels[string(blk.Bytes)] = fmt.Sprintf("%s#%d", filepath.ToSlash(rel), i)
			}
		}
		return nil
	})
}

var b64Ref = regexp.MustCompile(`\$\{B64:([A-Za-z0-9._/-]+)\}`)

// Expand replaces ${B64:path} (relative to Dir) with the base64 of that
// file. A missing file fails the test when strict, and is left as text
// otherwise (for fuzzers).
func (p *PKI) Expand(t testing.TB, src []byte, strict bool) []byte {
	t.Helper()
	return b64Ref.ReplaceAllFunc(src, func(m []byte) []byte {
		rel := string(b64Ref.FindSubmatch(m)[1])
		b, err := os.ReadFile(filepath.Join(p.Dir, filepath.FromSlash(rel)))
		switch {
		case err != nil && strict:
			t.Fatalf("%s: %v", m, err)
		case err != nil:
			return m
		}
		return []byte(base64.StdEncoding.EncodeToString(b))
	})
}

// Describe labels the PEM blocks of a base64 value, in order:
// "pem:server/tls.crt#0,pem:client-ca/ca.crt#0". A value that is not base64
// (e.g. "[redacted]") is returned as it is.
func (p *PKI) Describe(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return b64
	}
	var parts []string
	blocks, _ := pembundle.Decode(raw)
	for _, blk := range blocks {
		l, ok := p.labels[string(blk.Bytes)]
		if !ok {
			l = "unknown " + blk.Type
		}
		parts = append(parts, "pem:"+l)
	}
	if len(parts) == 0 {
		return "not PEM"
	}
	return strings.Join(parts, ",")
}

// LineDiff shows the first 20 differing lines of two texts.
func LineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; (i < len(w) || i < len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
