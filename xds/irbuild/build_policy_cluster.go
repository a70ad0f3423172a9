package irbuild

import (
	"strings"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// Istio's defaults for the parts of a traffic policy (istio/istio pilot/pkg/
// networking/core/cluster_traffic_policy.go).
const (
	// defaultLB is Istio's defaultLBAlgorithm; Envoy's own is ROUND_ROBIN.
	defaultLB = ir.LBLeastRequest
	// defaultRingSize is what Istio sets for a ring hash without a size
	// (Envoy's default minimum too).
	defaultRingSize = 1024
	// Warm-up defaults (setWarmup): linear ramp from 10%.
	defaultWarmupAggression = 1.0
	defaultWarmupMinPercent = 10.0
	// Retry budget defaults (applyRetryBudget).
	defaultBudgetPercent     = 20.0
	defaultBudgetConcurrency = 3
)

// applyPolicy sets the cluster's load balancer, connection pool, outlier
// detection and retry budget from the policy in force.
func (b *builder) applyPolicy(c *ir.Cluster, p *trafficPolicy) {
	obj := (*model.Object)(nil)
	if p.dr != nil {
		obj = &p.dr.Object
	}
	c.LB = b.loadBalancer(obj, p)
	b.connectionPool(c, obj, p)
	c.Outlier = outlier(p.od)
	if rb := p.rb; rb != nil {
		if c.CircuitBreakers == nil {
			c.CircuitBreakers = &ir.CircuitBreakers{}
		}
		c.CircuitBreakers.RetryBudget = &ir.RetryBudget{Percent: defaultBudgetPercent, MinRetryConcurrency: defaultBudgetConcurrency}
		if rb.Percent != nil {
			c.CircuitBreakers.RetryBudget.Percent = *rb.Percent
		}
		if rb.MinRetryConcurrency > 0 {
			c.CircuitBreakers.RetryBudget.MinRetryConcurrency = rb.MinRetryConcurrency
		}
		c.CircuitBreakers.RetryBudget.Interval = b.optDuration(obj, p.rbPath+".budgetInterval", rb.BudgetInterval)
	}
}

// loadBalancer maps loadBalancer as Istio's applyLoadBalancer does:
// LEAST_CONN is LEAST_REQUEST, no algorithm is Istio's LEAST_REQUEST, warm-up
// applies to ROUND_ROBIN and LEAST_REQUEST, a consistent hash makes the
// cluster RING_HASH (1024 entries unless sized) or MAGLEV.
func (b *builder) loadBalancer(obj *model.Object, p *trafficPolicy) *ir.LoadBalancer {
	lb := p.lb
	out := &ir.LoadBalancer{Policy: defaultLB}
	if lb == nil {
		return out
	}
	switch strings.ToUpper(lb.Simple) {
	case "RANDOM":
		out.Policy = ir.LBRandom
	case "ROUND_ROBIN":
		out.Policy = ir.LBRoundRobin
	}
	if ch := lb.ConsistentHash; ch != nil {
		out.Policy, out.MinimumRingSize = ir.LBRingHash, defaultRingSize
		switch {
		case ch.Maglev != nil:
			out.Policy, out.MinimumRingSize, out.MaglevTableSize = ir.LBMaglev, 0, ch.Maglev.TableSize
		case ch.RingHash != nil:
			out.MinimumRingSize = ch.RingHash.MinimumRingSize
		case ch.MinimumRingSize != 0:
			out.MinimumRingSize = ch.MinimumRingSize
		}
	}
	out.SlowStart = b.slowStart(obj, p.lbPath, lb, out.Policy)
	return out
}

// slowStart is the warm-up of ROUND_ROBIN and LEAST_REQUEST clusters
// (Istio's setWarmup, or the deprecated warmupDurationSecs alone).
func (b *builder) slowStart(obj *model.Object, path string, lb *model.LoadBalancerSettings, policy ir.LBPolicy) *ir.SlowStart {
	if lb.Warmup == nil && lb.WarmupDurationSecs == "" {
		return nil
	}
	if policy != ir.LBRoundRobin && policy != ir.LBLeastRequest {
		b.warnf(obj, path+".warmup", "warm-up applies to ROUND_ROBIN and LEAST_REQUEST only; it is ignored with %s, as in Istio", policy)
		return nil
	}
	if lb.Warmup == nil {
		d := b.optDuration(obj, path+".warmupDurationSecs", lb.WarmupDurationSecs)
		if d == nil {
			return nil
		}
		return &ir.SlowStart{Window: *d}
	}
	w := lb.Warmup
	d := b.optDuration(obj, path+".warmup.duration", w.Duration)
	if d == nil {
		return nil
	}
	out := &ir.SlowStart{Window: *d, Aggression: defaultWarmupAggression, MinWeightPercent: defaultWarmupMinPercent}
	if w.Aggression != nil {
		out.Aggression = *w.Aggression
	}
	if w.MinimumPercent != nil {
		out.MinWeightPercent = *w.MinimumPercent
	}
	return out
}

// connectionPool maps connectionPool as Istio's applyConnectionPool does:
// positive limits become circuit-breaker thresholds, the HTTP idle timeout
// (else the TCP one), requests per connection and the connection's
// lifetime become the cluster's HTTP options.
func (b *builder) connectionPool(c *ir.Cluster, obj *model.Object, p *trafficPolicy) {
	cp := p.cp
	if cp == nil {
		return
	}
	cb := &ir.CircuitBreakers{}
	h := &ir.UpstreamHTTP{}
	if t := cp.TCP; t != nil {
		cb.MaxConnections = positive(t.MaxConnections)
		if d := b.optDuration(obj, p.cpPath+".tcp.connectTimeout", t.ConnectTimeout); d != nil {
			c.ConnectTimeout = *d
		}
		h.MaxConnectionDuration = b.optDuration(obj, p.cpPath+".tcp.maxConnectionDuration", t.MaxConnectionDuration)
		h.IdleTimeout = b.optDuration(obj, p.cpPath+".tcp.idleTimeout", t.IdleTimeout)
		c.TCPKeepalive = tcpKeepalive(t.TCPKeepalive)
	}
	if hs := cp.HTTP; hs != nil {
		cb.MaxPendingRequests = positive(hs.HTTP1MaxPendingRequests)
		cb.MaxRequests = positive(hs.HTTP2MaxRequests)
		cb.MaxRetries = positive(hs.MaxRetries)
		if d := b.optDuration(obj, p.cpPath+".http.idleTimeout", hs.IdleTimeout); d != nil {
			h.IdleTimeout = d
		}
		h.MaxRequestsPerConnection = positive(hs.MaxRequestsPerConnection)
		b.httpProtocol(c, h, obj, p.cpPath+".http", hs)
	}
	if *cb != (ir.CircuitBreakers{}) {
		c.CircuitBreakers = cb
	}
	if *h != (ir.UpstreamHTTP{}) {
		c.HTTPOptions = h
	}
}

// httpProtocol applies h2UpgradePolicy and useClientProtocol (Istio's
// shouldH2Upgrade: useClientProtocol wins, DO_NOT_UPGRADE does not
// downgrade a port declared HTTP2 or GRPC), and the HTTP/2 stream limit and
// keepalive.
func (b *builder) httpProtocol(c *ir.Cluster, h *ir.UpstreamHTTP, obj *model.Object, path string, hs *model.HTTPSettings) {
	switch {
	case hs.UseClientProtocol:
		c.UseDownstreamProtocol, c.HTTP2 = true, false
	case strings.EqualFold(hs.H2UpgradePolicy, "UPGRADE"):
		c.HTTP2 = true
	}
	h.MaxConcurrentStreams = positive(hs.MaxConcurrentStreams)
	if k := hs.HTTP2KeepAlive; k != nil {
		h.KeepaliveInterval = b.optDuration(obj, path+".http2KeepAlive.interval", k.Interval)
		h.KeepaliveTimeout = b.optDuration(obj, path+".http2KeepAlive.timeout", k.Timeout)
	}
}

// positive is n as a threshold; 0 and below leave Envoy's default.
func positive(n int32) uint32 {
	if n <= 0 {
		return 0
	}
	return uint32(n)
}

// tcpKeepalive converts a TCP keepalive (whole seconds, as Istio's
// setKeepAliveSettings truncates them).
func tcpKeepalive(k *model.TCPKeepalive) *ir.TCPKeepalive {
	if k == nil {
		return nil
	}
	secs := func(s string) uint32 {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			return 0
		}
		return uint32(d / time.Second)
	}
	return &ir.TCPKeepalive{Probes: k.Probes, TimeSeconds: secs(k.Time), IntervalSeconds: secs(k.Interval)}
}

// outlier maps outlierDetection as Istio's applyOutlierDetection does;
// minHealthPercent becomes the panic threshold, 0 (the default) switching
// panic routing off.
func outlier(od *model.OutlierDetection) *ir.OutlierDetection {
	if od == nil {
		return nil
	}
	out := &ir.OutlierDetection{
		Consecutive5xx: od.Consecutive5xxErrors, ConsecutiveGatewayFailure: od.ConsecutiveGatewayErrors,
		SplitExternalLocalOriginErrors: od.SplitExternalLocalOriginErrors,
		MaxEjectionPercent:             uint32(max(od.MaxEjectionPercent, 0)),
		HealthyPanicThreshold:          float64(max(od.MinHealthPercent, 0)),
		ErrorCodes:                     od.OutlierDetectionHTTPErrorCodes,
	}
	if od.SplitExternalLocalOriginErrors && od.ConsecutiveLocalOriginFailures != nil && *od.ConsecutiveLocalOriginFailures > 0 {
		out.ConsecutiveLocalOriginFailure = od.ConsecutiveLocalOriginFailures
	}
	for _, f := range []struct {
		s   string
		dst **time.Duration
	}{{od.Interval, &out.Interval}, {od.BaseEjectionTime, &out.BaseEjectionTime}} {
		if d, err := parseDuration(f.s); f.s != "" && err == nil {
			*f.dst = &d
		}
	}
	return out
}
