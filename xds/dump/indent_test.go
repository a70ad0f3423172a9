package dump

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestIndentToEqualsJSONIndent: indentTo's output is json.Indent's.
func TestIndentToEqualsJSONIndent(t *testing.T) {
	tests := map[string]string{
		"scalar":                         `42`,
		"empty object and array":         `{"a":{},"b":[],"c":[{}],"d":{"e":[]}}`,
		"empty ones with spaces":         "{ \"a\" : { } , \"b\" : [ \t\n ] }",
		"punctuation inside strings":     `{"k{[,:]}":"v ,:{}[] x","x":["]","}"]}`,
		"escaped quotes and backslashes": `{"a\"b":"c\\","d":"\\\"","e":"\u0022\\u005c"}`,
		"whitespace inside strings":      "{\"a b\":\" \\t \\n  x  \"}",
		"numbers, literals, nesting":     `[1,-2.5e10,true,false,null,[[[{"x":[1,{"y":null}]}]]]]`,
		"protojson's random spacing":     `{"name":"l",  "filter_chains":[{"filters": [ {"name":"hcm"}]}]}`,
		"non-ASCII":                      `{"héllo":"wörld \u2028 ✓"}`,
		"leading whitespace":             " \n {\"a\":1}",
		"trailing whitespace":            "{\"a\":1} \n\t",
		"a scalar and whitespace":        " 0 ",
		"deeper than 32":                 strings.Repeat("[", 40) + strings.Repeat("]", 39) + "]",
		"deeper than 32, not empty":      strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
		"deeper than 32, lists":          strings.Repeat("[1,", 40) + "2" + strings.Repeat("]", 40),
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			for _, pre := range []string{"", "        "} {
				var want, got bytes.Buffer
				if err := json.Indent(&want, []byte(src), pre, "  "); err != nil {
					t.Fatalf("json.Indent: %v", err)
				}
				if err := indentTo(&got, []byte(src), pre, "  "); err != nil {
					t.Fatalf("indentTo: %v", err)
				}
				if d := cmp.Diff(want.String(), got.String()); d != "" {
					t.Errorf("prefix %q (-json.Indent +indentTo):\n%s", pre, d)
				}
			}
		})
	}
}

// TestIndentToUnbalanced: input that does not balance goes to json.Indent,
// whose error is returned.
func TestIndentToUnbalanced(t *testing.T) {
	for name, src := range map[string]string{
		"unterminated string": `{"a":"b`,
		"unclosed object":     `{"a":1`,
		"extra close":         `{"a":1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if err := indentTo(&bytes.Buffer{}, []byte(src), "", "  "); err == nil {
				t.Error("no error")
			}
		})
	}
}

// FuzzIndentTo: for any valid JSON, indentTo writes what json.Indent does.
func FuzzIndentTo(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":"\"}"}]}`, `"x"`, `[ { } , [ ] ]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if !json.Valid([]byte(src)) {
			return
		}
		var want, got bytes.Buffer
		if err := json.Indent(&want, []byte(src), "    ", "  "); err != nil {
			t.Fatalf("json.Indent: %v", err)
		}
		if err := indentTo(&got, []byte(src), "    ", "  "); err != nil {
			t.Fatalf("indentTo: %v", err)
		}
		if want.String() != got.String() {
			t.Errorf("indentTo(%q) = %q, json.Indent gives %q", src, got.String(), want.String())
		}
	})
}
