package translate

import (
	"errors"
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/trustgate/trustgate/internal/re2size"
	"github.com/trustgate/trustgate/xds/ir"
)

// errPresentNotString is returned where a presence match cannot be expressed
// as a StringMatcher.
var errPresentNotString = errors.New("a presence match is not a string match here")

// stringMatcher converts an IR string match. A match with no field set is an
// exact match on the empty string.
func stringMatcher(m ir.StringMatch) (*matcherv3.StringMatcher, error) {
	out := &matcherv3.StringMatcher{IgnoreCase: m.IgnoreCase}
	switch {
	case m.Present:
		return nil, errPresentNotString
	case m.Prefix != "":
		out.MatchPattern = &matcherv3.StringMatcher_Prefix{Prefix: m.Prefix}
	case m.Suffix != "":
		out.MatchPattern = &matcherv3.StringMatcher_Suffix{Suffix: m.Suffix}
	case m.Contains != "":
		out.MatchPattern = &matcherv3.StringMatcher_Contains{Contains: m.Contains}
	case m.Regex != "":
		// ignore_case does not apply to safe_regex; fold it into the
		// pattern.
		out = regexStringMatcher(re2size.CaseFold(m.Regex, m.IgnoreCase))
	default:
		out.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: m.Exact}
	}
	return out, nil
}

// exactMatcher matches s exactly.
func exactMatcher(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
}

// regexStringMatcher matches the RE2 pattern (a full match).
func regexStringMatcher(pattern string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regexMatcher(pattern)}}
}

// stringMatchers converts a list of IR string matches.
func stringMatchers(ms []ir.StringMatch) ([]*matcherv3.StringMatcher, error) {
	out := make([]*matcherv3.StringMatcher, 0, len(ms))
	for i, m := range ms {
		sm, err := stringMatcher(m)
		if err != nil {
			return nil, fmt.Errorf("match[%d]: %w", i, err)
		}
		out = append(out, sm)
	}
	return out, nil
}

// regexMatcher is an RE2 matcher. Envoy's safe_regex is a full match; the
// google_re2 engine field is deprecated and RE2 is the default.
func regexMatcher(pattern string) *matcherv3.RegexMatcher {
	return &matcherv3.RegexMatcher{Regex: pattern}
}

// headerMatcher matches one request header by value or presence.
func headerMatcher(name string, m ir.StringMatch, invert bool) (*routev3.HeaderMatcher, error) {
	hm := &routev3.HeaderMatcher{Name: name, InvertMatch: invert}
	if m.Present {
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
		return hm, nil
	}
	sm, err := stringMatcher(m)
	if err != nil {
		return nil, err
	}
	hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: sm}
	return hm, nil
}
