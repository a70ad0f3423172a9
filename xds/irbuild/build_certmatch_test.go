package irbuild

import (
	"regexp"
	"strings"
	"testing"
)

// envoyDNSNameMatch is Envoy's Utility::dnsNameMatch
// (source/common/tls/utility.cc), ported to show the premise of
// literalDNSName: StringSanMatcher::match
// (source/common/tls/cert_validator/san_matcher.cc) calls it for an exact
// matcher on a DNS SAN, with the matcher's value as dnsName and the
// certificate's SAN as pattern.
func envoyDNSNameMatch(dnsName, pattern string) bool {
	name, pat := strings.ToLower(dnsName), strings.ToLower(pattern)
	if name == pat {
		return true
	}
	pl, pr, pok := strings.Cut(pat, ".")
	nl, nr, nok := strings.Cut(name, ".")
	if !pok || !nok {
		return false
	}
	if strings.Contains(pl, "*") && !strings.Contains(pr, "*") && !strings.HasPrefix(pl, "xn--") {
		return nr == pr && envoyLabelWildcardMatch(nl, pl)
	}
	return false
}

// envoyLabelWildcardMatch is Envoy's Utility::labelWildcardMatch.
func envoyLabelWildcardMatch(label, pattern string) bool {
	if pattern == "*" {
		return true
	}
	if strings.Count(pattern, "*") != 1 {
		return false
	}
	before, after, _ := strings.Cut(pattern, "*")
	return len(pattern) <= len(label)+1 && strings.HasPrefix(label, before) && strings.HasSuffix(label, after)
}

// fullMatch runs a pattern as Envoy's safe_regex does: RE2, a full match.
// Go's regexp has RE2's syntax and semantics for the literals and classes
// literalDNSName writes.
func fullMatch(t *testing.T, pattern, s string) bool {
	t.Helper()
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		t.Fatalf("%q does not compile: %v", pattern, err)
	}
	return re.MatchString(s)
}

func TestLiteralDNSName(t *testing.T) {
	const name = "admin.example.com"
	tests := map[string]struct {
		san        string // the certificate's DNS SAN
		exact      bool   // Envoy's exact DNS SAN match (wildcard-aware)
		noWildcard bool   // literalDNSName's regex
	}{
		"the name":                 {san: "admin.example.com", exact: true, noWildcard: true},
		"the name, upper case":     {san: "ADMIN.Example.COM", exact: true, noWildcard: true},
		"a wildcard SAN":           {san: "*.example.com", exact: true, noWildcard: false},
		"a partial-label wildcard": {san: "a*.example.com", exact: true, noWildcard: false},
		"a wildcard further left":  {san: "*.admin.example.com", exact: false, noWildcard: false},
		"another host":             {san: "www.example.com", exact: false, noWildcard: false},
		"a longer name":            {san: "admin.example.com.evil.org", exact: false, noWildcard: false},
		"a dot as any character":   {san: "admin-example.com", exact: false, noWildcard: false},
		"the name with a prefix":   {san: "xadmin.example.com", exact: false, noWildcard: false},
		"an empty SAN":             {san: "", exact: false, noWildcard: false},
	}
	m := literalDNSName(name)
	if m.Exact != "" || m.IgnoreCase || m.Regex == "" {
		t.Fatalf("literalDNSName(%q) = %+v, want a regex only", name, m)
	}
	for label, tc := range tests {
		t.Run(label, func(t *testing.T) {
			if got := envoyDNSNameMatch(name, tc.san); got != tc.exact {
				t.Errorf("Envoy's exact match of SAN %q = %v, want %v", tc.san, got, tc.exact)
			}
			if got := fullMatch(t, m.Regex, tc.san); got != tc.noWildcard {
				t.Errorf("noWildcard regex %q on SAN %q = %v, want %v", m.Regex, tc.san, got, tc.noWildcard)
			}
		})
	}
}

func TestLiteralDNSNameQuotesAndFolds(t *testing.T) {
	tests := map[string]struct {
		name, want string
		probes     map[string]bool
	}{
		"letters, digits and a hyphen": {
			name: "Ab-9.io", want: `[aA][bB]-9\.[iI][oO]`,
			probes: map[string]bool{"ab-9.io": true, "AB-9.IO": true, "ab-9xio": false},
		},
		"a literal wildcard name matches only itself": {
			name: "*.example.com", want: `\*\.[eE][xX][aA][mM][pP][lL][eE]\.[cC][oO][mM]`,
			probes: map[string]bool{"*.example.com": true, "a.example.com": false},
		},
		"k and s fold in ASCII only": {
			name: "ks", want: `[kK][sS]`,
			probes: map[string]bool{"KS": true, "\u212as": false, "k\u017f": false},
		},
	}
	for label, tc := range tests {
		t.Run(label, func(t *testing.T) {
			got := literalDNSName(tc.name).Regex
			if got != tc.want {
				t.Fatalf("literalDNSName(%q) = %q, want %q", tc.name, got, tc.want)
			}
			for s, want := range tc.probes {
				if m := fullMatch(t, got, s); m != want {
					t.Errorf("%q on %q = %v, want %v", got, s, m, want)
				}
			}
		})
	}
}
