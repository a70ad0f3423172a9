package translate

import (
	"strings"
	"testing"

	"github.com/trustgate/trustgate/internal/re2size"
	"github.com/trustgate/trustgate/xds/ir"
)

// TestHostRegexSize: the host regexes trustgate writes for authorization
// rules stay within the RE2 program size limit for the longest DNS names,
// made of k and s, the letters (?i) costs most for (they also match U+212A
// and U+017F).
func TestHostRegexSize(t *testing.T) {
	label := strings.Repeat("k", 63)
	host := label + "." + label + "." + label + "." + strings.Repeat("s", 61) // 253 characters
	for name, m := range map[string]ir.StringMatch{
		"exact":    {Exact: host},
		"suffix":   {Suffix: host[1:]},
		"prefix":   {Prefix: host},
		"contains": {Contains: host},
	} {
		t.Run(name, func(t *testing.T) {
			re := hostRegex(m)
			n, err := re2size.ProgramSize(re)
			if err != nil {
				t.Fatal(err)
			}
			if n > re2size.Limit {
				t.Errorf("hostRegex for a %d-character host has RE2 program size %d; the limit is %d", len(host), n, re2size.Limit)
			}
		})
	}
}
