package translate

import (
	"fmt"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	matcherconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/matcher/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// slowStartAggressionKey names the runtime key of a cluster's slow-start
// aggression, which Envoy requires (RuntimeDouble.runtime_key has min_len
// 1); the value comes from the configuration unless a runtime layer sets
// the key.
const slowStartAggressionKey = "trustgate.slow_start_aggression"

// applyClusterPolicy sets the cluster's load balancer, circuit breakers,
// outlier detection, TCP keepalive and HTTP protocol options.
func applyClusterPolicy(out *clusterv3.Cluster, c *ir.Cluster) error {
	if err := setLoadBalancer(out, c.LB); err != nil {
		return err
	}
	out.CircuitBreakers = circuitBreakers(c.CircuitBreakers)
	setOutlier(out, c.Outlier)
	if k := c.TCPKeepalive; k != nil {
		ka := &corev3.TcpKeepalive{}
		for _, f := range []struct {
			v   uint32
			dst **wrapperspb.UInt32Value
		}{{k.Probes, &ka.KeepaliveProbes}, {k.TimeSeconds, &ka.KeepaliveTime}, {k.IntervalSeconds, &ka.KeepaliveInterval}} {
			if f.v > 0 {
				*f.dst = wrapperspb.UInt32(f.v)
			}
		}
		out.UpstreamConnectionOptions = &clusterv3.UpstreamConnectionOptions{TcpKeepalive: ka}
	}
	opts, err := httpOptions(c)
	if err != nil || opts == nil {
		return err
	}
	out.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptions: opts}
	return nil
}

// setLoadBalancer sets lb_policy and its config; nil keeps Envoy's default.
func setLoadBalancer(out *clusterv3.Cluster, lb *ir.LoadBalancer) error {
	if lb == nil {
		return nil
	}
	p, ok := clusterv3.Cluster_LbPolicy_value[string(lb.Policy)]
	if !ok {
		return fmt.Errorf("unknown load balancing policy %q", lb.Policy)
	}
	out.LbPolicy = clusterv3.Cluster_LbPolicy(p)
	slow := slowStart(lb.SlowStart)
	switch {
	case lb.Policy == ir.LBRoundRobin && slow != nil:
		out.LbConfig = &clusterv3.Cluster_RoundRobinLbConfig_{RoundRobinLbConfig: &clusterv3.Cluster_RoundRobinLbConfig{SlowStartConfig: slow}}
	case lb.Policy == ir.LBLeastRequest && slow != nil:
		out.LbConfig = &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{SlowStartConfig: slow}}
	case lb.Policy == ir.LBRingHash && lb.MinimumRingSize > 0:
		out.LbConfig = &clusterv3.Cluster_RingHashLbConfig_{RingHashLbConfig: &clusterv3.Cluster_RingHashLbConfig{MinimumRingSize: wrapperspb.UInt64(lb.MinimumRingSize)}}
	case lb.Policy == ir.LBMaglev && lb.MaglevTableSize > 0:
		out.LbConfig = &clusterv3.Cluster_MaglevLbConfig_{MaglevLbConfig: &clusterv3.Cluster_MaglevLbConfig{TableSize: wrapperspb.UInt64(lb.MaglevTableSize)}}
	case slow != nil:
		return fmt.Errorf("slow start with %s", lb.Policy)
	}
	return nil
}

// slowStart is Envoy's slow_start_config.
func slowStart(s *ir.SlowStart) *clusterv3.Cluster_SlowStartConfig {
	if s == nil {
		return nil
	}
	out := &clusterv3.Cluster_SlowStartConfig{SlowStartWindow: durationpb.New(s.Window)}
	if s.Aggression > 0 {
		out.Aggression = &corev3.RuntimeDouble{DefaultValue: s.Aggression, RuntimeKey: slowStartAggressionKey}
	}
	if s.MinWeightPercent > 0 {
		out.MinWeightPercent = &typev3.Percent{Value: s.MinWeightPercent}
	}
	return out
}

// circuitBreakers sets the default-priority thresholds that are given.
func circuitBreakers(cb *ir.CircuitBreakers) *clusterv3.CircuitBreakers {
	if cb == nil {
		return nil
	}
	t := &clusterv3.CircuitBreakers_Thresholds{}
	for _, f := range []struct {
		v   uint32
		dst **wrapperspb.UInt32Value
	}{{cb.MaxConnections, &t.MaxConnections}, {cb.MaxPendingRequests, &t.MaxPendingRequests}, {cb.MaxRequests, &t.MaxRequests}, {cb.MaxRetries, &t.MaxRetries}} {
		if f.v > 0 {
			*f.dst = wrapperspb.UInt32(f.v)
		}
	}
	if rb := cb.RetryBudget; rb != nil {
		t.RetryBudget = &clusterv3.CircuitBreakers_Thresholds_RetryBudget{
			BudgetPercent:       &typev3.Percent{Value: rb.Percent},
			MinRetryConcurrency: wrapperspb.UInt32(rb.MinRetryConcurrency),
		}
		if rb.Interval != nil {
			t.RetryBudget.BudgetInterval = durationpb.New(*rb.Interval)
		}
	}
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{t}}
}

// setOutlier sets outlier detection as Istio's applyOutlierDetection does:
// success-rate ejection off, each consecutive-failure rule enforced at 100%
// when its count is positive, and the panic threshold.
func setOutlier(out *clusterv3.Cluster, o *ir.OutlierDetection) {
	if o == nil {
		return
	}
	od := &clusterv3.OutlierDetection{EnforcingSuccessRate: wrapperspb.UInt32(0)}
	enforce := func(n *uint32) (*wrapperspb.UInt32Value, *wrapperspb.UInt32Value) {
		if n == nil {
			return nil, nil
		}
		e := uint32(0)
		if *n > 0 {
			e = 100
		}
		return wrapperspb.UInt32(*n), wrapperspb.UInt32(e)
	}
	od.Consecutive_5Xx, od.EnforcingConsecutive_5Xx = enforce(o.Consecutive5xx)
	od.ConsecutiveGatewayFailure, od.EnforcingConsecutiveGatewayFailure = enforce(o.ConsecutiveGatewayFailure)
	if o.Interval != nil {
		od.Interval = durationpb.New(*o.Interval)
	}
	if o.BaseEjectionTime != nil {
		od.BaseEjectionTime = durationpb.New(*o.BaseEjectionTime)
	}
	if o.MaxEjectionPercent > 0 {
		od.MaxEjectionPercent = wrapperspb.UInt32(o.MaxEjectionPercent)
	}
	if o.SplitExternalLocalOriginErrors {
		od.SplitExternalLocalOriginErrors = true
		od.ConsecutiveLocalOriginFailure, od.EnforcingConsecutiveLocalOriginFailure = enforce(o.ConsecutiveLocalOriginFailure)
		od.EnforcingLocalOriginSuccessRate = wrapperspb.UInt32(0)
	}
	out.OutlierDetection = od
	out.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: o.HealthyPanicThreshold}}
}

// httpOptions are the cluster's HttpProtocolOptions (typed extension
// options; Cluster.http2_protocol_options is deprecated): the upstream
// protocol, the connection settings and the outlier error codes; nil when
// the cluster needs none. Envoy requires an upstream protocol once the
// message is set, so HTTP/1.1 is named explicitly when nothing else is.
func httpOptions(c *ir.Cluster) (*anypb.Any, error) {
	h := c.HTTPOptions
	var codes []uint32
	if c.Outlier != nil {
		codes = c.Outlier.ErrorCodes
	}
	if !c.HTTP2 && !c.UseDownstreamProtocol && h == nil && len(codes) == 0 {
		return nil, nil
	}
	out := &httpv3.HttpProtocolOptions{CommonHttpProtocolOptions: commonUpstreamOptions(h)}
	switch {
	case c.UseDownstreamProtocol:
		out.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{UseDownstreamProtocolConfig: &httpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
			HttpProtocolOptions: &corev3.Http1ProtocolOptions{}, Http2ProtocolOptions: clusterHTTP2(h),
		}}
	case c.HTTP2:
		out.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: clusterHTTP2(h)},
		}}
	default:
		out.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
		}}
	}
	if len(codes) > 0 {
		out.OutlierDetection = &httpv3.HttpProtocolOptions_OutlierDetection{ErrorMatcher: statusMatcher(codes)}
	}
	return toAny(out)
}

// commonUpstreamOptions are the idle timeout, requests per connection and
// connection lifetime; nil when none is set.
func commonUpstreamOptions(h *ir.UpstreamHTTP) *corev3.HttpProtocolOptions {
	if h == nil || (h.IdleTimeout == nil && h.MaxRequestsPerConnection == 0 && h.MaxConnectionDuration == nil) {
		return nil
	}
	o := &corev3.HttpProtocolOptions{}
	if h.IdleTimeout != nil {
		o.IdleTimeout = durationpb.New(*h.IdleTimeout)
	}
	if h.MaxRequestsPerConnection > 0 {
		o.MaxRequestsPerConnection = wrapperspb.UInt32(h.MaxRequestsPerConnection)
	}
	if h.MaxConnectionDuration != nil {
		o.MaxConnectionDuration = durationpb.New(*h.MaxConnectionDuration)
	}
	return o
}

// clusterHTTP2 is the edge HTTP/2 window sizes with the cluster's stream
// limit and PING keepalive.
func clusterHTTP2(h *ir.UpstreamHTTP) *corev3.Http2ProtocolOptions {
	o := upstreamHTTP2()
	if h == nil {
		return o
	}
	if h.MaxConcurrentStreams > 0 {
		o.MaxConcurrentStreams = wrapperspb.UInt32(h.MaxConcurrentStreams)
	}
	if h.KeepaliveInterval != nil || h.KeepaliveTimeout != nil {
		k := &corev3.KeepaliveSettings{}
		if h.KeepaliveInterval != nil {
			k.Interval = durationpb.New(*h.KeepaliveInterval)
		}
		if h.KeepaliveTimeout != nil {
			k.Timeout = durationpb.New(*h.KeepaliveTimeout)
		}
		o.ConnectionKeepalive = k
	}
	return o
}

// statusMatcher matches responses whose :status is one of codes (Istio's
// applyOutlierDetectionErrorCodes).
func statusMatcher(codes []uint32) *matcherconfigv3.MatchPredicate {
	var rules []*matcherconfigv3.MatchPredicate
	for _, c := range codes {
		rules = append(rules, &matcherconfigv3.MatchPredicate{Rule: &matcherconfigv3.MatchPredicate_HttpResponseHeadersMatch{
			HttpResponseHeadersMatch: &matcherconfigv3.HttpHeadersMatch{Headers: []*routev3.HeaderMatcher{{
				Name: ":status",
				HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
					MatchPattern: &matcherv3.StringMatcher_Exact{Exact: strconv.FormatUint(uint64(c), 10)},
				}},
			}}},
		}})
	}
	if len(rules) == 1 {
		return rules[0]
	}
	return &matcherconfigv3.MatchPredicate{Rule: &matcherconfigv3.MatchPredicate_OrMatch{OrMatch: &matcherconfigv3.MatchPredicate_MatchSet{Rules: rules}}}
}

// hashPolicies converts a route's consistent-hash keys.
func hashPolicies(hs []ir.HashPolicy) ([]*routev3.RouteAction_HashPolicy, error) {
	var out []*routev3.RouteAction_HashPolicy
	for _, h := range hs {
		p := &routev3.RouteAction_HashPolicy{}
		switch {
		case h.Header != "":
			p.PolicySpecifier = &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: h.Header}}
		case h.Cookie != nil:
			p.PolicySpecifier = &routev3.RouteAction_HashPolicy_Cookie_{Cookie: hashCookie(h.Cookie)}
		case h.SourceIP:
			p.PolicySpecifier = &routev3.RouteAction_HashPolicy_ConnectionProperties_{ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}
		case h.QueryParameter != "":
			p.PolicySpecifier = &routev3.RouteAction_HashPolicy_QueryParameter_{QueryParameter: &routev3.RouteAction_HashPolicy_QueryParameter{Name: h.QueryParameter}}
		default:
			return nil, fmt.Errorf("hash policy without a key")
		}
		out = append(out, p)
	}
	return out, nil
}

// hashCookie is a cookie hash key.
func hashCookie(c *ir.HashCookie) *routev3.RouteAction_HashPolicy_Cookie {
	out := &routev3.RouteAction_HashPolicy_Cookie{Name: c.Name, Path: c.Path}
	if c.TTL != nil {
		out.Ttl = durationpb.New(*c.TTL)
	}
	for _, a := range c.Attributes {
		out.Attributes = append(out.Attributes, &routev3.RouteAction_HashPolicy_CookieAttribute{Name: a.Name, Value: a.Value})
	}
	return out
}
