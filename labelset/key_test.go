package labelset

import (
	"maps"
	"testing"
)

func TestKey(t *testing.T) {
	tests := map[string]struct {
		in   map[string]string
		want string
	}{
		"none":             {in: nil, want: ""},
		"empty map":        {in: map[string]string{}, want: ""},
		"sorted":           {in: map[string]string{"zone": "a", "app": "gw"}, want: "app=gw,zone=a"},
		"separators":       {in: map[string]string{"a,b": "c=d"}, want: "a%2Cb=c%3Dd"},
		"percent escaped":  {in: map[string]string{"p": "100%"}, want: "p=100%25"},
		"empty value kept": {in: map[string]string{"x": ""}, want: "x="},
		"empty key kept":   {in: map[string]string{"": "x"}, want: "=x"},
		"quotes as is":     {in: map[string]string{"q": `"a",'b'`}, want: `q="a"%2C'b'`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Key(tc.in); got != tc.want {
				t.Errorf("Key(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestKeyDistinct gives label sets that a naive "k=v,k=v" join confuses,
// each pair differing only in where the separators sit: every one must have
// a key of its own.
func TestKeyDistinct(t *testing.T) {
	sets := map[string]map[string]string{
		"two labels":              {"app": "edge", "x": "y"},
		"comma and equals inside": {"app": "edge,x=y"},
		"equals in the key":       {"app=edge,x": "y"},
		"comma in the key":        {"app": "edge", "x,": "y"},
		"empty value":             {"app": ""},
		"empty key":               {"": "app"},
		"only equals":             {"app": "="},
		"escaped look-alike":      {"app": "edge%2Cx%3Dy"},
		"percent":                 {"app": "edge%"},
		"quoted":                  {"app": `"edge,x=y"`},
		"single quoted":           {"app": `'edge',x='y'`},
		"no labels":               {},
		"empty key and value":     {"": ""},
		"three labels":            {"a": "", "b": "", "c": ""},
		"one label, commas":       {"a": ",b=,c="},
	}
	seen := map[string]string{}
	for name, l := range sets {
		k := Key(l)
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s share the key %q", name, other, k)
		}
		seen[k] = name
		if again := Key(maps.Clone(l)); again != k {
			t.Errorf("%s: Key is not stable: %q then %q", name, k, again)
		}
	}
}
