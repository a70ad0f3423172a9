package model

import (
	"fmt"
	"math/big"
	"time"
)

// Load balancer values.
var (
	simpleLBs         = []string{"UNSPECIFIED", "LEAST_CONN", "RANDOM", "ROUND_ROBIN", "LEAST_REQUEST"}
	rejectedSimpleLBs = map[string]string{
		"PASSTHROUGH": "it sends each connection to its original destination address, which at a gateway is the gateway itself",
	}
	h2UpgradePolicies = []string{"DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"}
)

// Envoy's limits (protoc-gen-validate rules in envoy/config/cluster/v3/
// cluster.proto): a ring of at most 8M entries, a Maglev table of at most
// 5000011 entries, which must be prime (MaglevLoadBalancer rejects others).
const (
	maxRingSize   = 8 * 1024 * 1024
	maxMaglevSize = 5000011
)

// policyParts checks the load balancer, connection pool and outlier
// detection of a traffic policy or of one of its port-level settings.
func (v *validator) policyParts(o *Object, p string, lb *LoadBalancerSettings, cp *ConnectionPoolSettings, od *OutlierDetection) {
	v.loadBalancer(o, p+".loadBalancer", lb)
	v.connectionPool(o, p+".connectionPool", cp)
	v.outlierDetection(o, p+".outlierDetection", od)
}

func (v *validator) loadBalancer(o *Object, p string, lb *LoadBalancerSettings) {
	if lb == nil {
		return
	}
	if lb.Simple != "" {
		if err := enum(lb.Simple, simpleLBs, rejectedSimpleLBs); err != nil {
			v.errorf(o, p+".simple", "%v", err)
		}
		if lb.ConsistentHash != nil {
			v.errorf(o, p, "set only one of simple and consistentHash")
		}
	}
	v.consistentHash(o, p+".consistentHash", lb.ConsistentHash)
	if w := lb.Warmup; w != nil {
		if w.Duration == "" {
			v.errorf(o, p+".warmup.duration", "duration is required")
		}
		v.duration(o, p+".warmup.duration", w.Duration)
		if m := w.MinimumPercent; m != nil && (*m < 0 || *m > 100) {
			v.errorf(o, p+".warmup.minimumPercent", "%g is not between 0 and 100", *m)
		}
		if a := w.Aggression; a != nil && *a <= 0 {
			v.errorf(o, p+".warmup.aggression", "aggression must be positive")
		}
		if lb.WarmupDurationSecs != "" {
			v.errorf(o, p+".warmupDurationSecs", "set only one of warmup and the deprecated warmupDurationSecs")
		}
	}
	v.duration(o, p+".warmupDurationSecs", lb.WarmupDurationSecs)
}

func (v *validator) consistentHash(o *Object, p string, ch *ConsistentHashLB) {
	if ch == nil {
		return
	}
	keys := 0
	for _, set := range []bool{ch.HTTPHeaderName != "", ch.HTTPCookie != nil, ch.UseSourceIP, ch.HTTPQueryParameterName != ""} {
		if set {
			keys++
		}
	}
	if keys != 1 {
		v.errorf(o, p, "exactly one of httpHeaderName, httpCookie, useSourceIp and httpQueryParameterName is required")
	}
	if ch.HTTPHeaderName != "" {
		if err := checkHeaderName(ch.HTTPHeaderName); err != nil {
			v.errorf(o, p+".httpHeaderName", "%v", err)
		}
	}
	if c := ch.HTTPCookie; c != nil {
		if c.Name == "" {
			v.errorf(o, p+".httpCookie.name", "cookie name is required")
		}
		if c.TTL != "" && c.TTL != "0s" {
			v.duration(o, p+".httpCookie.ttl", c.TTL)
		}
		for i, a := range c.Attributes {
			if a.Name == "" {
				v.errorf(o, fmt.Sprintf("%s.httpCookie.attributes[%d].name", p, i), "attribute name is required")
			}
		}
	}
	v.hashAlgorithm(o, p, ch)
}

// hashAlgorithm checks ringHash, maglev and the deprecated minimumRingSize
// against each other and Envoy's limits.
func (v *validator) hashAlgorithm(o *Object, p string, ch *ConsistentHashLB) {
	switch {
	case ch.RingHash != nil && ch.Maglev != nil:
		v.errorf(o, p, "set only one of ringHash and maglev")
	case ch.MinimumRingSize != 0 && (ch.RingHash != nil || ch.Maglev != nil):
		v.errorf(o, p+".minimumRingSize", "the deprecated minimumRingSize cannot be combined with ringHash or maglev")
	}
	ring := ch.MinimumRingSize
	if ch.RingHash != nil {
		ring = ch.RingHash.MinimumRingSize
	}
	if ring > maxRingSize {
		v.errorf(o, p, "minimum ring size %d is over Envoy's limit of %d", ring, maxRingSize)
	}
	if m := ch.Maglev; m != nil && m.TableSize != 0 {
		if m.TableSize > maxMaglevSize || !big.NewInt(int64(m.TableSize)).ProbablyPrime(20) {
			v.errorf(o, p+".maglev.tableSize", "table size %d must be a prime number of at most %d (Envoy's rule)", m.TableSize, maxMaglevSize)
		}
	}
}

func (v *validator) connectionPool(o *Object, p string, cp *ConnectionPoolSettings) {
	if cp == nil {
		return
	}
	if t := cp.TCP; t != nil {
		tp := p + ".tcp"
		v.nonNegative(o, tp+".maxConnections", t.MaxConnections)
		v.duration(o, tp+".connectTimeout", t.ConnectTimeout)
		v.duration(o, tp+".maxConnectionDuration", t.MaxConnectionDuration)
		v.idleTimeout(o, tp+".idleTimeout", t.IdleTimeout)
		if k := t.TCPKeepalive; k != nil {
			v.keepaliveSeconds(o, tp+".tcpKeepalive.time", k.Time)
			v.keepaliveSeconds(o, tp+".tcpKeepalive.interval", k.Interval)
		}
	}
	if h := cp.HTTP; h != nil {
		hp := p + ".http"
		for _, f := range []struct {
			name string
			n    int32
		}{{"http1MaxPendingRequests", h.HTTP1MaxPendingRequests}, {"http2MaxRequests", h.HTTP2MaxRequests}, {"maxRequestsPerConnection", h.MaxRequestsPerConnection}, {"maxRetries", h.MaxRetries}, {"maxConcurrentStreams", h.MaxConcurrentStreams}} {
			v.nonNegative(o, hp+"."+f.name, f.n)
		}
		v.idleTimeout(o, hp+".idleTimeout", h.IdleTimeout)
		if h.H2UpgradePolicy != "" {
			if err := enum(h.H2UpgradePolicy, h2UpgradePolicies, nil); err != nil {
				v.errorf(o, hp+".h2UpgradePolicy", "%v", err)
			}
		}
		if k := h.HTTP2KeepAlive; k != nil {
			v.duration(o, hp+".http2KeepAlive.interval", k.Interval)
			if k.Timeout == "" {
				v.errorf(o, hp+".http2KeepAlive.timeout", "timeout is required (Envoy needs to know when an unanswered PING closes the connection)")
			}
			v.duration(o, hp+".http2KeepAlive.timeout", k.Timeout)
		}
	}
}

// nonNegative checks an int32 count.
func (v *validator) nonNegative(o *Object, path string, n int32) {
	if n < 0 {
		v.errorf(o, path, "%d must not be negative", n)
	}
}

// idleTimeout checks an idle timeout: a duration, "0s" switching it off.
func (v *validator) idleTimeout(o *Object, path, s string) {
	if s != "" && s != "0s" {
		v.duration(o, path, s)
	}
}

// keepaliveSeconds checks a TCP keepalive time or interval: the kernel
// takes whole seconds, so it must be at least 1s.
func (v *validator) keepaliveSeconds(o *Object, path, s string) {
	if s == "" {
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.duration(o, path, s)
	case d < time.Second:
		v.errorf(o, path, "%s is under 1s; TCP keepalive counts whole seconds", s)
	}
}

func (v *validator) outlierDetection(o *Object, p string, od *OutlierDetection) {
	if od == nil {
		return
	}
	v.duration(o, p+".interval", od.Interval)
	v.duration(o, p+".baseEjectionTime", od.BaseEjectionTime)
	for _, f := range []struct {
		name string
		n    int32
	}{{"maxEjectionPercent", od.MaxEjectionPercent}, {"minHealthPercent", od.MinHealthPercent}} {
		if f.n < 0 || f.n > 100 {
			v.errorf(o, p+"."+f.name, "%d is not between 0 and 100", f.n)
		}
	}
	for i, c := range od.OutlierDetectionHTTPErrorCodes {
		if c < 100 || c > 599 {
			v.errorf(o, fmt.Sprintf("%s.outlierDetectionHttpErrorCodes[%d]", p, i), "%d is not an HTTP status code", c)
		}
	}
}

// retryBudget checks a traffic policy's retry budget.
func (v *validator) retryBudget(o *Object, p string, rb *RetryBudget) {
	if rb == nil {
		return
	}
	if pc := rb.Percent; pc != nil && (*pc < 0 || *pc > 100) {
		v.errorf(o, p+".percent", "%g is not between 0 and 100", *pc)
	}
	v.duration(o, p+".budgetInterval", rb.BudgetInterval)
}
