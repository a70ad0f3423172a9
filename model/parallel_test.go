package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// scaleVS is a VirtualService document; extra lines go into its spec.
func scaleVS(i int, extra string) string {
	return fmt.Sprintf("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h%d, namespace: edge}\nspec:\n  hosts: [h%d.example.com]\n  gateways: [gw]\n%s  http:\n  - route: [{destination: {host: web-%d.internal, port: {number: 8080}}}]\n", i, i, extra, i)
}

// manyDocs joins n documents with "---" lines, replacing document i's text
// by odd[i].
func manyDocs(n int, head string, odd map[int]string) string {
	var b strings.Builder
	b.WriteString(head)
	for i := range n {
		if i > 0 || head != "" {
			b.WriteString("---\n")
		}
		if s, ok := odd[i]; ok {
			b.WriteString(s)
			continue
		}
		b.WriteString(scaleVS(i, ""))
	}
	return b.String()
}

// TestParallelLoadEqualsSequential: a large file loads to the same objects,
// lines and errors whether its documents are parsed on every core or one
// after the other, including when a document is broken.
func TestParallelLoadEqualsSequential(t *testing.T) {
	tests := map[string]string{
		"valid":                      manyDocs(100, "", nil),
		"comments before the first":  manyDocs(100, "# generated\n\n", nil),
		"separator with a comment":   strings.ReplaceAll(manyDocs(100, "", nil), "---\n", "--- # next\n"),
		"trailing separator":         manyDocs(100, "", nil) + "---\n",
		"empty document":             manyDocs(100, "", map[int]string{80: ""}),
		"comment-only document":      manyDocs(100, "", map[int]string{80: "# nothing\n"}),
		"null document":              manyDocs(100, "", map[int]string{70: "~\n"}),
		"syntax error":               manyDocs(100, "", map[int]string{70: "a: [1, 2\n"}),
		"unterminated quote":         manyDocs(100, "", map[int]string{70: "a: \"x\n"}),
		"unknown field":              manyDocs(100, "", map[int]string{90: scaleVS(90, "  hostz: [a]\n")}),
		"two documents in one chunk": manyDocs(100, "", map[int]string{50: scaleVS(50, "") + "--- !!map\n" + scaleVS(500, "")}),
		"document end marker":        manyDocs(100, "", map[int]string{50: scaleVS(50, "") + "...\n"}),
		"directive":                  "%YAML 1.2\n---\n" + manyDocs(100, "", nil),
		"anchors and aliases":        manyDocs(100, "", map[int]string{60: "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: a, namespace: edge}\nspec:\n  hosts: &h [a.example.com]\n  gateways: [gw]\n  http:\n  - route: [{destination: {host: &d web.internal, port: {number: 8080}}}]\n  - route: [{destination: {host: *d, port: {number: 8080}}}]\n"}),
		"scalar after separator":     strings.Replace(manyDocs(100, "", nil), "---\n", "---x\n", 1),
		"tabs in a separator":        strings.ReplaceAll(manyDocs(100, "", nil), "---\n", "---\t \n"),
	}
	for name, content := range tests {
		for _, size := range []int{1, 1 << 10, 64 << 10} {
			t.Run(fmt.Sprintf("%s/chunks of %d bytes", name, size), func(t *testing.T) {
				defer setChunkBytes(size)()
				compareLoads(t, content)
			})
		}
	}
}

// setChunkBytes sets chunkBytes and returns what restores it.
func setChunkBytes(n int) func() {
	saved := chunkBytes
	chunkBytes = n
	return func() { chunkBytes = saved }
}

// compareLoads loads content in parallel and sequentially.
func compareLoads(t *testing.T, content string) {
	t.Helper()
	{
		{
			path := filepath.Join(t.TempDir(), "vs.yaml")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := LoadOptions{Paths: []string{path}}
			par, parErr := Load(opts)
			saved := minParallelDocuments
			minParallelDocuments = 1 << 30
			seq, seqErr := Load(opts)
			minParallelDocuments = saved
			if d := cmp.Diff(errString(seqErr), errString(parErr)); d != "" {
				t.Errorf("errors differ (-sequential +parallel):\n%s", d)
			}
			if d := cmp.Diff(seq, par, cmpopts.IgnoreUnexported(Config{})); d != "" {
				t.Errorf("objects differ (-sequential +parallel):\n%s", d)
			}
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSplitDocuments pins what is split and what is declined.
func TestSplitDocuments(t *testing.T) {
	tests := map[string]struct {
		in    string
		lines []int // first line of each chunk; nil: declined
	}{
		"one document":         {in: "a: 1\n", lines: []int{1}},
		"two":                  {in: "a: 1\n---\nb: 2\n", lines: []int{1, 3}},
		"leading separator":    {in: "---\na: 1\n", lines: []int{1, 2}},
		"comment on separator": {in: "a: 1\n--- # x\nb: 2\n", lines: []int{1, 3}},
		"no final newline":     {in: "a: 1\n---", lines: []int{1, 3}},
		"content on separator": {in: "a: 1\n--- b\n"},
		"directive":            {in: "%YAML 1.2\n---\na: 1\n"},
		"end marker":           {in: "a: 1\n...\n"},
		"carriage returns":     {in: "a: 1\r\n---\r\nb: 2\r\n"},
		"byte order mark":      {in: "\xef\xbb\xbfa: 1\n"},
		"indented dashes":      {in: "a: |\n  ---\n", lines: []int{1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			chunks, ok := splitDocuments([]byte(tc.in))
			if !ok {
				if tc.lines != nil {
					t.Fatalf("declined, want chunks at lines %v", tc.lines)
				}
				return
			}
			if tc.lines == nil {
				t.Fatalf("split into %d chunks, want declined", len(chunks))
			}
			var got []int
			for _, c := range chunks {
				got = append(got, c.line)
			}
			if d := cmp.Diff(tc.lines, got); d != "" {
				t.Errorf("chunk lines (-want +got):\n%s", d)
			}
		})
	}
}

// TestParallelPathTaken: the parallel path loads a valid large file whole,
// and hands a broken one to the sequential parser at the broken document.
func TestParallelPathTaken(t *testing.T) {
	tests := map[string]struct {
		content string
		want    int
	}{
		"valid":              {manyDocs(100, "", nil), -1},
		"syntax error at 71": {manyDocs(100, "", map[int]string{70: "a: [1, 2\n"}), 70},
		"small file":         {manyDocs(10, "", nil), 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			defer setChunkBytes(1)()
			l := &loader{cfg: &Config{Files: map[string][]byte{}}, limit: nodeLimit(len(tc.content))}
			if got := l.loadDocumentsParallel("f.yaml", []byte(tc.content)); got != tc.want {
				t.Errorf("loadDocumentsParallel = %d, want %d", got, tc.want)
			}
		})
	}
}
