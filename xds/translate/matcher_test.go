package translate

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/trustgate/trustgate/xds/ir"
)

func TestStringMatcher(t *testing.T) {
	tests := map[string]struct {
		in      ir.StringMatch
		want    *matcherv3.StringMatcher
		wantErr bool
	}{
		"exact":          {in: ir.StringMatch{Exact: "a"}, want: exact("a")},
		"empty is exact": {in: ir.StringMatch{}, want: exact("")},
		"prefix ignore case": {
			in:   ir.StringMatch{Prefix: "/a", IgnoreCase: true},
			want: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "/a"}, IgnoreCase: true},
		},
		"suffix":   {in: ir.StringMatch{Suffix: ".com"}, want: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: ".com"}}},
		"contains": {in: ir.StringMatch{Contains: "x"}, want: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Contains{Contains: "x"}}},
		"regex":    {in: ir.StringMatch{Regex: "a+"}, want: safeRegex("a+")},
		"regex ignore case folds into the pattern": {
			in: ir.StringMatch{Regex: "a+", IgnoreCase: true}, want: safeRegex("(?i:a+)"),
		},
		"present is not a string match": {in: ir.StringMatch{Present: true}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := stringMatcher(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}

func TestHeaderMatcher(t *testing.T) {
	tests := map[string]struct {
		name   string
		in     ir.StringMatch
		invert bool
		want   *routev3.HeaderMatcher
	}{
		"value": {
			name: "x-a", in: ir.StringMatch{Exact: "1"},
			want: &routev3.HeaderMatcher{Name: "x-a", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exact("1")}},
		},
		"present inverted": {
			name: "x-a", in: ir.StringMatch{Present: true}, invert: true,
			want: &routev3.HeaderMatcher{Name: "x-a", InvertMatch: true, HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := headerMatcher(tc.name, tc.in, tc.invert)
			wantErr(t, err, false)
			diffProto(t, tc.want, got)
		})
	}
}
