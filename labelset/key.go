package labelset

import (
	"maps"
	"slices"
	"strings"
)

// escaper keeps Key unambiguous for keys or values holding the separators:
// without it {app: "edge,x=y"} and {app: edge, x: y} would share a key, and
// so a compiled configuration and its private keys.
var escaper = strings.NewReplacer("%", "%25", ",", "%2C", "=", "%3D")

// Key is the canonical key of a label set: "k=v,k2=v2" sorted by key, with
// '%', ',' and '=' percent-escaped in keys and values. Equal maps give equal
// keys, different maps different keys; no labels give "".
func Key(l map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(l)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(escaper.Replace(k))
		b.WriteByte('=')
		b.WriteString(escaper.Replace(l[k]))
	}
	return b.String()
}
