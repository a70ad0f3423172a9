package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// prefixMatch is a route match on a path prefix.
func prefixMatch(p string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
}

// toCluster is a plain cluster route action with Istio's no-timeout default.
func toCluster(c string) *routev3.Route_Route {
	return &routev3.Route_Route{Route: &routev3.RouteAction{
		ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: c}, Timeout: durationpb.New(0),
	}}
}

// hvo is a header value option.
func hvo(k, v string, a corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: a}
}

func TestBuildRouteMatch(t *testing.T) {
	tests := map[string]struct {
		in   ir.RouteMatch
		want *routev3.RouteMatch
	}{
		"no path is prefix /": {in: ir.RouteMatch{}, want: prefixMatch("/")},
		"exact path ignoring case": {
			in:   ir.RouteMatch{PathExact: "/a", IgnoreCase: true},
			want: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/a"}, CaseSensitive: wrapperspb.Bool(false)},
		},
		"regex ignoring case folds into the pattern": {
			in:   ir.RouteMatch{PathRegex: "/a/[0-9]+", IgnoreCase: true},
			want: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "(?i:/a/[0-9]+)"}}},
		},
		"headers, query, certificate presented": {
			in: ir.RouteMatch{
				PathPrefix: "/p",
				Headers: []ir.HeaderMatch{
					{Name: ":authority", Match: ir.StringMatch{Suffix: ".example.com"}},
					{Name: "x-debug", Match: ir.StringMatch{Present: true}, Invert: true},
				},
				QueryParams:   []ir.QueryMatch{{Name: "a", Match: ir.StringMatch{Exact: "1"}}, {Name: "b", Match: ir.StringMatch{Present: true}}},
				CertPresented: translatetest.Ptr(true),
			},
			want: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/p"},
				Headers: []*routev3.HeaderMatcher{
					{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: ".example.com"}}}},
					{Name: "x-debug", InvertMatch: true, HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}},
				},
				QueryParameters: []*routev3.QueryParameterMatcher{
					{Name: "a", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: exact("1")}},
					{Name: "b", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}},
				},
				TlsContext: &routev3.RouteMatch_TlsContextMatchOptions{Presented: wrapperspb.Bool(true)},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildRouteMatch(tc.in)
			wantErr(t, err, false)
			diffProto(t, tc.want, got)
		})
	}
}

func TestBuildRouteAction(t *testing.T) {
	tests := map[string]struct {
		in      *ir.Forward
		want    *routev3.RouteAction
		wantErr bool
	}{
		"one cluster, nil timeout is 0s": {
			in:   &ir.Forward{Destinations: []ir.WeightedCluster{{Cluster: "a"}}},
			want: toCluster("a").Route,
		},
		"weighted with per-cluster headers, retries and rewrites": {
			in: &ir.Forward{
				Destinations: []ir.WeightedCluster{
					{Cluster: "a", Weight: 80},
					{Cluster: "b", Weight: 20, Headers: ir.HeaderOps{Request: ir.HeaderOp{Set: []ir.Header{{Name: "x-b", Value: "1"}}, Remove: []string{"x-a"}}}},
				},
				Timeout:       translatetest.Ptr(10 * time.Second),
				Retries:       &ir.Retry{Attempts: 3, PerTryTimeout: translatetest.Ptr(2 * time.Second), RetryOn: "5xx"},
				PrefixRewrite: "/v2/",
				HostRewrite:   "b.internal",
			},
			want: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: "a", Weight: wrapperspb.UInt32(80)},
					{
						Name: "b", Weight: wrapperspb.UInt32(20),
						RequestHeadersToAdd:    []*corev3.HeaderValueOption{hvo("x-b", "1", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)},
						RequestHeadersToRemove: []string{"x-a"},
					},
				}}},
				Timeout:              durationpb.New(10 * time.Second),
				RetryPolicy:          &routev3.RetryPolicy{RetryOn: "5xx", NumRetries: wrapperspb.UInt32(3), PerTryTimeout: durationpb.New(2 * time.Second)},
				PrefixRewrite:        "/v2/",
				HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "b.internal"},
			},
		},
		"one destination with headers keeps them in a one-entry split": {
			in: &ir.Forward{
				Destinations: []ir.WeightedCluster{{Cluster: "a", Headers: ir.HeaderOps{Response: ir.HeaderOp{Add: []ir.Header{{Name: "x", Value: "1"}}}}}},
				RegexRewrite: &ir.RegexRewrite{Pattern: "^/a/(.*)", Substitution: "/\\1"},
				Retries:      &ir.Retry{},
			},
			want: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{{
					Name: "a", Weight: wrapperspb.UInt32(1),
					ResponseHeadersToAdd: []*corev3.HeaderValueOption{hvo("x", "1", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)},
				}}}},
				Timeout:      durationpb.New(0),
				RetryPolicy:  &routev3.RetryPolicy{NumRetries: wrapperspb.UInt32(0)},
				RegexRewrite: &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "^/a/(.*)"}, Substitution: "/\\1"},
			},
		},
		"Istio's default retry: previous hosts, status codes, back-off": {
			in: &ir.Forward{
				Destinations: []ir.WeightedCluster{{Cluster: "a"}},
				Retries: &ir.Retry{
					Attempts: 2, RetryOn: "gateway-error,retriable-status-codes", RetriableStatusCodes: []uint32{503},
					PreviousHosts: true, HostSelectionMaxAttempts: 5, BackoffBase: translatetest.Ptr(100 * time.Millisecond),
				},
			},
			want: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "a"},
				Timeout:          durationpb.New(0),
				RetryPolicy: &routev3.RetryPolicy{
					RetryOn: "gateway-error,retriable-status-codes", NumRetries: wrapperspb.UInt32(2),
					RetriableStatusCodes: []uint32{503}, HostSelectionRetryMaxAttempts: 5,
					RetryBackOff: &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(100 * time.Millisecond)},
					RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
						Name:       "envoy.retry_host_predicates.previous_hosts",
						ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: mustAny(t, &previoushostsv3.PreviousHostsPredicate{})},
					}},
				},
			},
		},
		"no destination": {in: &ir.Forward{}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildRouteAction(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}

func TestBuildRedirect(t *testing.T) {
	tests := map[string]struct {
		in      *ir.Redirect
		want    *routev3.RedirectAction
		wantErr bool
	}{
		"https upgrade, default 301": {
			in: &ir.Redirect{Scheme: "https", Port: 443},
			want: &routev3.RedirectAction{
				SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "https"},
				PortRedirect:           443, ResponseCode: routev3.RedirectAction_MOVED_PERMANENTLY,
			},
		},
		"host and path, 307": {
			in: &ir.Redirect{Host: "b", Path: "/x", Code: 307},
			want: &routev3.RedirectAction{
				HostRedirect: "b", PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/x"},
				ResponseCode: routev3.RedirectAction_TEMPORARY_REDIRECT,
			},
		},
		"prefix rewrite, 303": {
			in: &ir.Redirect{PrefixRewrite: "/new/", Code: 303},
			want: &routev3.RedirectAction{
				PathRewriteSpecifier: &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/new/"},
				ResponseCode:         routev3.RedirectAction_SEE_OTHER,
			},
		},
		"unsupported code":     {in: &ir.Redirect{Code: 300}, wantErr: true},
		"path and prefix both": {in: &ir.Redirect{Path: "/a", PrefixRewrite: "/b"}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildRedirect(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}

func TestBuildRoute(t *testing.T) {
	cors := &corsv3.CorsPolicy{
		AllowOriginStringMatch: []*matcherv3.StringMatcher{exact("https://a.example.com")},
		AllowMethods:           "GET,POST", AllowHeaders: "a,b", ExposeHeaders: "c",
		MaxAge: "90", AllowCredentials: wrapperspb.Bool(false),
	}
	tests := map[string]struct {
		in      *ir.Route
		want    *routev3.Route
		wantErr bool
	}{
		"forward with route-level headers and CORS": {
			in: &ir.Route{
				Name:    "r",
				Forward: &ir.Forward{Destinations: []ir.WeightedCluster{{Cluster: "a"}}},
				Headers: ir.HeaderOps{
					Request:  ir.HeaderOp{Set: []ir.Header{{Name: "x-s", Value: "1"}}, Add: []ir.Header{{Name: "x-a", Value: "2"}}, Remove: []string{"x-r"}},
					Response: ir.HeaderOp{Set: []ir.Header{{Name: "x-t", Value: "3"}}, Remove: []string{"server"}},
				},
				CORS: &ir.CORS{
					AllowOrigins: []ir.StringMatch{{Exact: "https://a.example.com"}},
					AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"a", "b"}, ExposeHeaders: []string{"c"},
					MaxAge: translatetest.Ptr(90 * time.Second), AllowCredentials: translatetest.Ptr(false),
				},
			},
			want: &routev3.Route{
				Name: "r", Match: prefixMatch("/"), Action: toCluster("a"),
				RequestHeadersToAdd: []*corev3.HeaderValueOption{
					hvo("x-s", "1", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
					hvo("x-a", "2", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD),
				},
				RequestHeadersToRemove:  []string{"x-r"},
				ResponseHeadersToAdd:    []*corev3.HeaderValueOption{hvo("x-t", "3", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)},
				ResponseHeadersToRemove: []string{"server"},
				TypedPerFilterConfig:    map[string]*anypb.Any{"envoy.filters.http.cors": mustAny(t, cors)},
			},
		},
		"direct response": {
			in: &ir.Route{Name: "d", DirectResponse: &ir.DirectResponse{Status: 421, Body: "misdirected"}},
			want: &routev3.Route{Name: "d", Match: prefixMatch("/"), Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
				Status: 421, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "misdirected"}},
			}}},
		},
		"direct response without body": {
			in: &ir.Route{Name: "d", DirectResponse: &ir.DirectResponse{Status: 204}},
			want: &routev3.Route{Name: "d", Match: prefixMatch("/"), Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
				Status: 204,
			}}},
		},
		"no action":   {in: &ir.Route{Name: "x"}, wantErr: true},
		"two actions": {in: &ir.Route{Name: "x", Redirect: &ir.Redirect{}, DirectResponse: &ir.DirectResponse{Status: 200}}, wantErr: true},
		"invalid CORS origin": {
			in:      &ir.Route{Name: "x", DirectResponse: &ir.DirectResponse{Status: 200}, CORS: &ir.CORS{AllowOrigins: []ir.StringMatch{{Present: true}}}},
			wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildRoute(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}

func TestBuildVirtualHost(t *testing.T) {
	tests := map[string]struct {
		in   *ir.VirtualHost
		want *routev3.VirtualHost
	}{
		"identity headers removed and set at the vhost level": {
			in: &ir.VirtualHost{
				Name: "a", Domains: []string{"a.example.com"},
				Headers: ir.HeaderOps{Request: ir.HeaderOp{
					Set:    []ir.Header{{Name: "x-client-subject", Value: "%DOWNSTREAM_PEER_SUBJECT%"}},
					Remove: []string{"x-client-subject"},
				}},
				Routes: []*ir.Route{{Name: "r", Forward: &ir.Forward{Destinations: []ir.WeightedCluster{{Cluster: "c"}}}}},
			},
			want: &routev3.VirtualHost{
				Name: "a", Domains: []string{"a.example.com"},
				RequestHeadersToAdd:    []*corev3.HeaderValueOption{hvo("x-client-subject", "%DOWNSTREAM_PEER_SUBJECT%", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)},
				RequestHeadersToRemove: []string{"x-client-subject"},
				Routes:                 []*routev3.Route{{Name: "r", Match: prefixMatch("/"), Action: toCluster("c")}},
			},
		},
		"require TLS": {
			in: &ir.VirtualHost{Name: "h", Domains: []string{"*"}, RequireTLS: true, Routes: []*ir.Route{{Name: "r", Redirect: &ir.Redirect{Scheme: "https"}}}},
			want: &routev3.VirtualHost{Name: "h", Domains: []string{"*"}, RequireTls: routev3.VirtualHost_ALL, Routes: []*routev3.Route{{
				Name: "r", Match: prefixMatch("/"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
					SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "https"},
				}},
			}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildVirtualHost(tc.in)
			wantErr(t, err, false)
			diffProto(t, tc.want, got)
		})
	}
}
