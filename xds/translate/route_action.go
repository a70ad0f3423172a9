package translate

import (
	"errors"
	"fmt"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// buildRouteAction forwards to one cluster or splits across several.
func buildRouteAction(f *ir.Forward) (*routev3.RouteAction, error) {
	retry, err := retryPolicy(f.Retries)
	if err != nil {
		return nil, err
	}
	hash, err := hashPolicies(f.HashPolicies)
	if err != nil {
		return nil, err
	}
	out := &routev3.RouteAction{
		Timeout:       routeTimeout(f.Timeout),
		RetryPolicy:   retry,
		PrefixRewrite: f.PrefixRewrite,
		HashPolicy:    hash,
	}
	switch len(f.Destinations) {
	case 0:
		return nil, errors.New("forward without a destination")
	case 1:
		d := f.Destinations[0]
		if hasHeaderOps(d.Headers) {
			// Single destinations carry no headers of their own in
			// Envoy; keep them by using a one-entry weighted split.
			out.ClusterSpecifier = weightedClusters(f.Destinations)
		} else {
			out.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: d.Cluster}
		}
	default:
		out.ClusterSpecifier = weightedClusters(f.Destinations)
	}
	if f.RegexRewrite != nil {
		out.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
			Pattern:      regexMatcher(f.RegexRewrite.Pattern),
			Substitution: f.RegexRewrite.Substitution,
		}
	}
	if f.HostRewrite != "" {
		out.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: f.HostRewrite}
	}
	return out, nil
}

// routeTimeout is the whole-request timeout. No IR timeout means none at all
// (0s), Istio's default: Envoy's own 15s default would cut long downloads,
// streams and watches that an Istio user expects to pass.
func routeTimeout(d *time.Duration) *durationpb.Duration {
	if d == nil {
		return durationpb.New(0)
	}
	return durationpb.New(*d)
}

// retryPolicy converts a retry policy; nil keeps Envoy's default (none).
func retryPolicy(r *ir.Retry) (*routev3.RetryPolicy, error) {
	if r == nil {
		return nil, nil
	}
	// num_retries is set even when 0: unset means Envoy's default of 1.
	out := &routev3.RetryPolicy{
		RetryOn: r.RetryOn, NumRetries: wrapperspb.UInt32(r.Attempts),
		RetriableStatusCodes:          r.RetriableStatusCodes,
		HostSelectionRetryMaxAttempts: r.HostSelectionMaxAttempts,
	}
	if r.PerTryTimeout != nil {
		out.PerTryTimeout = durationpb.New(*r.PerTryTimeout)
	}
	if r.BackoffBase != nil {
		out.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(*r.BackoffBase)}
	}
	if r.PreviousHosts {
		cfg, err := toAny(&previoushostsv3.PreviousHostsPredicate{})
		if err != nil {
			return nil, fmt.Errorf("retry host predicate: %w", err)
		}
		out.RetryHostPredicate = []*routev3.RetryPolicy_RetryHostPredicate{{
			Name:       previousHostsPredicate,
			ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: cfg},
		}}
	}
	return out, nil
}

// weightedClusters splits traffic by weight, each share with its own header
// operations. total_weight is deprecated: Envoy sums the weights.
func weightedClusters(ds []ir.WeightedCluster) *routev3.RouteAction_WeightedClusters {
	wc := &routev3.WeightedCluster{}
	for _, d := range ds {
		w := d.Weight
		if len(ds) == 1 && w == 0 {
			w = 1 // a lone share takes everything; Envoy needs a positive sum
		}
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{
			Name:                    d.Cluster,
			Weight:                  wrapperspb.UInt32(w),
			RequestHeadersToAdd:     headerOptions(d.Headers.Request),
			RequestHeadersToRemove:  d.Headers.Request.Remove,
			ResponseHeadersToAdd:    headerOptions(d.Headers.Response),
			ResponseHeadersToRemove: d.Headers.Response.Remove,
		})
	}
	return &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
}

// redirectCodes maps HTTP redirect statuses to Envoy's enum.
var redirectCodes = map[uint32]routev3.RedirectAction_RedirectResponseCode{
	0:   routev3.RedirectAction_MOVED_PERMANENTLY,
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

// buildRedirect answers with an HTTP redirect.
func buildRedirect(r *ir.Redirect) (*routev3.RedirectAction, error) {
	code, ok := redirectCodes[r.Code]
	if !ok {
		return nil, fmt.Errorf("redirect code %d is not one of 301, 302, 303, 307, 308", r.Code)
	}
	if r.Path != "" && r.PrefixRewrite != "" {
		return nil, errors.New("redirect sets both a path and a prefix rewrite")
	}
	out := &routev3.RedirectAction{HostRedirect: r.Host, PortRedirect: r.Port, ResponseCode: code}
	if r.Scheme != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: r.Scheme}
	}
	switch {
	case r.Path != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: r.Path}
	case r.PrefixRewrite != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: r.PrefixRewrite}
	}
	return out, nil
}

// buildDirectResponse answers with a fixed status and body.
func buildDirectResponse(d *ir.DirectResponse) *routev3.DirectResponseAction {
	out := &routev3.DirectResponseAction{Status: d.Status}
	if d.Body != "" {
		out.Body = inlineString(d.Body)
	}
	return out
}

// headerOptions turns sets into OVERWRITE_IF_EXISTS_OR_ADD (a client's copy
// must not survive next to ours) and adds into APPEND_IF_EXISTS_OR_ADD. The
// deprecated `append` field is never used.
func headerOptions(op ir.HeaderOp) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for _, h := range op.Set {
		out = append(out, headerOption(h, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
	}
	for _, h := range op.Add {
		out = append(out, headerOption(h, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD))
	}
	return out
}

// headerOption is one header with its append action.
func headerOption(h ir.Header, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
		AppendAction: action,
	}
}

// hasHeaderOps reports whether any header operation is set.
func hasHeaderOps(h ir.HeaderOps) bool {
	for _, op := range []ir.HeaderOp{h.Request, h.Response} {
		if len(op.Set)+len(op.Add)+len(op.Remove) > 0 {
			return true
		}
	}
	return false
}
