package envoymodel

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// compileRegex compiles an RE2 pattern once. Envoy's safe_regex is a full
// match (source/common/common/regex.cc, CompiledGoogleReMatcher::match uses
// RE2::FullMatch); Go's regexp implements RE2's syntax.
func (m *Model) compileRegex(pattern string) error {
	return m.compileRegexAs(pattern, pattern, `\A(?:`+pattern+`)\z`)
}

// compileRegexAs compiles expr, written from pattern, under key once.
func (m *Model) compileRegexAs(key, pattern, expr string) error {
	if m.compiledRegex(key) != nil {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return fmt.Errorf("regex %q: %w", pattern, err)
	}
	m.compiled.Lock()
	m.regexes[key] = re
	m.compiled.Unlock()
	return nil
}

// compiledRegex is the pattern compileRegex (or compileBareRegex, under bareKey)
// compiled, nil if none.
func (m *Model) compiledRegex(key string) *regexp.Regexp {
	m.compiled.RLock()
	defer m.compiled.RUnlock()
	return m.regexes[key]
}

// bareKey prefixes the cache key of an unanchored pattern (for rewrites,
// which replace every match: RE2::GlobalReplace).
const bareKey = "\x00bare:"

// compileBareRegex compiles a pattern unanchored.
func (m *Model) compileBareRegex(pattern string) error {
	return m.compileRegexAs(bareKey+pattern, pattern, pattern)
}

// fullMatch reports whether the whole of s matches a compiled pattern.
func (m *Model) fullMatch(pattern, s string) bool {
	re := m.compiledRegex(pattern)
	if re == nil {
		// Every pattern is compiled by New; reaching here is a model bug.
		panic(fmt.Sprintf("envoymodel: regex %q was not compiled", pattern))
	}
	return re.MatchString(s)
}

// compileStringMatcher checks a StringMatcher and compiles its regex.
func (m *Model) compileStringMatcher(sm *matcherv3.StringMatcher) error {
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_SafeRegex:
		return m.compileRegex(p.SafeRegex.GetRegex())
	case *matcherv3.StringMatcher_Exact, *matcherv3.StringMatcher_Prefix,
		*matcherv3.StringMatcher_Suffix, *matcherv3.StringMatcher_Contains:
		return nil
	case nil:
		return fmt.Errorf("string matcher without a pattern")
	}
	return unsupported("string matcher %T", sm.GetMatchPattern())
}

// matchString is Envoy's StringMatcherImpl::match
// (source/common/common/matchers.cc): exact, prefix, suffix and contains
// honour ignore_case (ASCII case folding); safe_regex is a full match and
// ignores ignore_case.
func (m *Model) matchString(sm *matcherv3.StringMatcher, v string) bool {
	fold := sm.GetIgnoreCase()
	norm := func(s string) string {
		if fold {
			return asciiLower(s)
		}
		return s
	}
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return norm(v) == norm(p.Exact)
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(norm(v), norm(p.Prefix))
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(norm(v), norm(p.Suffix))
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(norm(v), norm(p.Contains))
	case *matcherv3.StringMatcher_SafeRegex:
		return m.fullMatch(p.SafeRegex.GetRegex(), v)
	}
	return false
}

// describeStringMatcher renders a StringMatcher for a trace.
func describeStringMatcher(sm *matcherv3.StringMatcher) string {
	ic := ""
	if sm.GetIgnoreCase() {
		ic = " (ignoring case)"
	}
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return fmt.Sprintf("exact %q%s", p.Exact, ic)
	case *matcherv3.StringMatcher_Prefix:
		return fmt.Sprintf("prefix %q%s", p.Prefix, ic)
	case *matcherv3.StringMatcher_Suffix:
		return fmt.Sprintf("suffix %q%s", p.Suffix, ic)
	case *matcherv3.StringMatcher_Contains:
		return fmt.Sprintf("contains %q%s", p.Contains, ic)
	case *matcherv3.StringMatcher_SafeRegex:
		return fmt.Sprintf("regex %q", p.SafeRegex.GetRegex())
	}
	return "?"
}

// asciiLower lower-cases ASCII letters only, as absl::AsciiStrToLower.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// compileHeaderMatcher checks a HeaderMatcher.
func (m *Model) compileHeaderMatcher(h *routev3.HeaderMatcher) error {
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_StringMatch:
		return m.compileStringMatcher(s.StringMatch)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		return m.compileRegex(s.SafeRegexMatch.GetRegex()) //nolint:staticcheck // SA1019: Envoy honours it (see matchHeader)
	case *routev3.HeaderMatcher_PresentMatch, *routev3.HeaderMatcher_ExactMatch,
		*routev3.HeaderMatcher_PrefixMatch, *routev3.HeaderMatcher_SuffixMatch,
		*routev3.HeaderMatcher_ContainsMatch, *routev3.HeaderMatcher_RangeMatch, nil:
		return nil
	}
	return unsupported("header matcher %T", h.GetHeaderMatchSpecifier())
}

// matchHeader is Envoy's HeaderUtility::HeaderData::matchesHeaders
// (source/common/http/header_utility.cc). Envoy still matches the
// deprecated exact, prefix, suffix, contains and safe_regex specifiers
// (HeaderUtility::HeaderData's constructor there), so the model does too.
// Every value of the header is joined with ","; an absent header fails
// every matcher except a present match (and invert_match does not turn that
// failure into a match unless treat_missing_header_as_empty is set);
// invert_match negates the rest.
func (m *Model) matchHeader(h *routev3.HeaderMatcher, hs *headerMap) bool {
	vals := hs.values(h.GetName())
	if p, ok := h.GetHeaderMatchSpecifier().(*routev3.HeaderMatcher_PresentMatch); ok {
		return (len(vals) > 0) == p.PresentMatch != h.GetInvertMatch()
	}
	if h.GetHeaderMatchSpecifier() == nil {
		// No specifier: presence (header_utility.cc, HeaderDataPresentMatch
		// default when nothing is set).
		return (len(vals) > 0) != h.GetInvertMatch()
	}
	if len(vals) == 0 {
		if !h.GetTreatMissingHeaderAsEmpty() {
			return false
		}
		vals = []string{""}
	}
	v := strings.Join(vals, ",")
	var ok bool
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_StringMatch:
		ok = m.matchString(s.StringMatch, v)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		ok = m.fullMatch(s.SafeRegexMatch.GetRegex(), v) //nolint:staticcheck // SA1019: Envoy honours it
	case *routev3.HeaderMatcher_ExactMatch:
		ok = v == s.ExactMatch //nolint:staticcheck // SA1019: Envoy honours it
	case *routev3.HeaderMatcher_PrefixMatch:
		ok = strings.HasPrefix(v, s.PrefixMatch) //nolint:staticcheck // SA1019: Envoy honours it
	case *routev3.HeaderMatcher_SuffixMatch:
		ok = strings.HasSuffix(v, s.SuffixMatch) //nolint:staticcheck // SA1019: Envoy honours it
	case *routev3.HeaderMatcher_ContainsMatch:
		ok = strings.Contains(v, s.ContainsMatch) //nolint:staticcheck // SA1019: Envoy honours it
	case *routev3.HeaderMatcher_RangeMatch:
		n, err := strconv.ParseInt(v, 10, 64)
		ok = err == nil && n >= s.RangeMatch.GetStart() && n < s.RangeMatch.GetEnd()
	}
	return ok != h.GetInvertMatch()
}

// describeHeaderMatcher renders a HeaderMatcher for a trace.
func describeHeaderMatcher(h *routev3.HeaderMatcher) string {
	not := ""
	if h.GetInvertMatch() {
		not = "not "
	}
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_StringMatch:
		return fmt.Sprintf("header %s %s%s", h.GetName(), not, describeStringMatcher(s.StringMatch))
	case *routev3.HeaderMatcher_PresentMatch:
		return fmt.Sprintf("header %s %spresent=%v", h.GetName(), not, s.PresentMatch)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		return fmt.Sprintf("header %s %sregex %q", h.GetName(), not, s.SafeRegexMatch.GetRegex()) //nolint:staticcheck // SA1019: Envoy honours it
	}
	return fmt.Sprintf("header %s %s%v", h.GetName(), not, h.GetHeaderMatchSpecifier())
}
