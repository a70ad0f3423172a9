package model

// The parts of Istio's DestinationRule traffic policy that a gateway
// honours. Field names and JSON tags follow Istio's reference
// (networking/v1alpha3/destination_rule.proto); durations are strings
// ("10s"), wrapper types pointers.

// LoadBalancerSettings is trafficPolicy.loadBalancer: one of simple and
// consistentHash, and the warm-up of new endpoints.
type LoadBalancerSettings struct {
	Simple             string               `json:"simple,omitempty"`
	ConsistentHash     *ConsistentHashLB    `json:"consistentHash,omitempty"`
	Warmup             *WarmupConfiguration `json:"warmup,omitempty"`
	WarmupDurationSecs string               `json:"warmupDurationSecs,omitempty"`
}

// ConsistentHashLB hashes one request property (one of the hash keys) onto
// a ring hash or Maglev table.
type ConsistentHashLB struct {
	HTTPHeaderName         string      `json:"httpHeaderName,omitempty"`
	HTTPCookie             *HTTPCookie `json:"httpCookie,omitempty"`
	UseSourceIP            bool        `json:"useSourceIp,omitempty"`
	HTTPQueryParameterName string      `json:"httpQueryParameterName,omitempty"`
	RingHash               *RingHash   `json:"ringHash,omitempty"`
	Maglev                 *MagLev     `json:"maglev,omitempty"`
	// MinimumRingSize is deprecated in Istio (use ringHash).
	MinimumRingSize uint64 `json:"minimumRingSize,omitempty"`
}

// HTTPCookie is a cookie hashed on; with a ttl Envoy sets it when absent.
type HTTPCookie struct {
	Name       string            `json:"name"`
	Path       string            `json:"path,omitempty"`
	TTL        string            `json:"ttl,omitempty"`
	Attributes []CookieAttribute `json:"attributes,omitempty"`
}

// CookieAttribute is an attribute of a generated cookie.
type CookieAttribute struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// RingHash is the ring hash algorithm.
type RingHash struct {
	MinimumRingSize uint64 `json:"minimumRingSize,omitempty"`
}

// MagLev is the Maglev algorithm.
type MagLev struct {
	TableSize uint64 `json:"tableSize,omitempty"`
}

// WarmupConfiguration ramps traffic to new endpoints up (Envoy's slow
// start).
type WarmupConfiguration struct {
	Duration       string   `json:"duration"`
	MinimumPercent *float64 `json:"minimumPercent,omitempty"`
	Aggression     *float64 `json:"aggression,omitempty"`
}

// ConnectionPoolSettings is trafficPolicy.connectionPool.
type ConnectionPoolSettings struct {
	TCP  *TCPSettings  `json:"tcp,omitempty"`
	HTTP *HTTPSettings `json:"http,omitempty"`
}

// TCPSettings are connection limits and timeouts.
type TCPSettings struct {
	MaxConnections        int32         `json:"maxConnections,omitempty"`
	ConnectTimeout        string        `json:"connectTimeout,omitempty"`
	TCPKeepalive          *TCPKeepalive `json:"tcpKeepalive,omitempty"`
	MaxConnectionDuration string        `json:"maxConnectionDuration,omitempty"`
	IdleTimeout           string        `json:"idleTimeout,omitempty"`
}

// TCPKeepalive sets SO_KEEPALIVE on upstream connections.
type TCPKeepalive struct {
	Probes   uint32 `json:"probes,omitempty"`
	Time     string `json:"time,omitempty"`
	Interval string `json:"interval,omitempty"`
}

// HTTPSettings are HTTP limits, timeouts and the upstream protocol.
type HTTPSettings struct {
	HTTP1MaxPendingRequests  int32                `json:"http1MaxPendingRequests,omitempty"`
	HTTP2MaxRequests         int32                `json:"http2MaxRequests,omitempty"`
	MaxRequestsPerConnection int32                `json:"maxRequestsPerConnection,omitempty"`
	MaxRetries               int32                `json:"maxRetries,omitempty"`
	IdleTimeout              string               `json:"idleTimeout,omitempty"`
	H2UpgradePolicy          string               `json:"h2UpgradePolicy,omitempty"`
	UseClientProtocol        bool                 `json:"useClientProtocol,omitempty"`
	MaxConcurrentStreams     int32                `json:"maxConcurrentStreams,omitempty"`
	HTTP2KeepAlive           *ConnectionKeepalive `json:"http2KeepAlive,omitempty"`
}

// ConnectionKeepalive is HTTP/2 PING keepalive towards the backend.
type ConnectionKeepalive struct {
	Interval string `json:"interval,omitempty"`
	Timeout  string `json:"timeout,omitempty"`
}

// OutlierDetection ejects failing endpoints.
type OutlierDetection struct {
	SplitExternalLocalOriginErrors bool     `json:"splitExternalLocalOriginErrors,omitempty"`
	ConsecutiveLocalOriginFailures *uint32  `json:"consecutiveLocalOriginFailures,omitempty"`
	ConsecutiveGatewayErrors       *uint32  `json:"consecutiveGatewayErrors,omitempty"`
	Consecutive5xxErrors           *uint32  `json:"consecutive5xxErrors,omitempty"`
	Interval                       string   `json:"interval,omitempty"`
	BaseEjectionTime               string   `json:"baseEjectionTime,omitempty"`
	MaxEjectionPercent             int32    `json:"maxEjectionPercent,omitempty"`
	MinHealthPercent               int32    `json:"minHealthPercent,omitempty"`
	OutlierDetectionHTTPErrorCodes []uint32 `json:"outlierDetectionHttpErrorCodes,omitempty"`
}

// RetryBudget bounds concurrent retries to a share of active requests.
type RetryBudget struct {
	Percent             *float64 `json:"percent,omitempty"`
	MinRetryConcurrency uint32   `json:"minRetryConcurrency,omitempty"`
	BudgetInterval      string   `json:"budgetInterval,omitempty"`
}
