package ir

import "time"

// The upstream traffic policy of a cluster: what a DestinationRule's
// trafficPolicy becomes (see build_policy.go). Zero values mean Envoy's
// defaults unless said otherwise.

// LBPolicy is a cluster's load-balancing algorithm, Envoy's enum name.
type LBPolicy string

// Load-balancing algorithms.
const (
	LBRoundRobin   LBPolicy = "ROUND_ROBIN"
	LBLeastRequest LBPolicy = "LEAST_REQUEST"
	LBRandom       LBPolicy = "RANDOM"
	LBRingHash     LBPolicy = "RING_HASH"
	LBMaglev       LBPolicy = "MAGLEV"
)

// LoadBalancer is a cluster's algorithm and its settings.
type LoadBalancer struct {
	Policy LBPolicy
	// SlowStart ramps traffic to new endpoints up (ROUND_ROBIN and
	// LEAST_REQUEST only).
	SlowStart *SlowStart `json:",omitempty"`
	// MinimumRingSize (RING_HASH) and MaglevTableSize (MAGLEV); 0 keeps
	// Envoy's default.
	MinimumRingSize uint64 `json:",omitempty"`
	MaglevTableSize uint64 `json:",omitempty"`
}

// SlowStart is Envoy's slow_start_config.
type SlowStart struct {
	Window           time.Duration
	Aggression       float64
	MinWeightPercent float64
}

// CircuitBreakers are a cluster's default-priority thresholds; 0 keeps
// Envoy's default (1024 connections, pending and active requests; 3
// concurrent retries).
type CircuitBreakers struct {
	MaxConnections     uint32 `json:",omitempty"`
	MaxPendingRequests uint32 `json:",omitempty"`
	MaxRequests        uint32 `json:",omitempty"`
	MaxRetries         uint32 `json:",omitempty"`
	RetryBudget        *RetryBudget
}

// RetryBudget limits concurrent retries to a share of active requests.
type RetryBudget struct {
	Percent             float64
	MinRetryConcurrency uint32
	Interval            *time.Duration
}

// OutlierDetection ejects failing endpoints; nil counts are not set.
type OutlierDetection struct {
	Consecutive5xx                 *uint32
	ConsecutiveGatewayFailure      *uint32
	ConsecutiveLocalOriginFailure  *uint32
	SplitExternalLocalOriginErrors bool
	Interval                       *time.Duration
	BaseEjectionTime               *time.Duration
	MaxEjectionPercent             uint32
	// HealthyPanicThreshold is the cluster's panic threshold in percent.
	HealthyPanicThreshold float64
	// ErrorCodes are the HTTP statuses that count as errors (default 5xx).
	ErrorCodes []uint32
}

// UpstreamHTTP are a cluster's HTTP connection settings.
type UpstreamHTTP struct {
	// IdleTimeout closes an upstream connection without requests (0: never).
	IdleTimeout              *time.Duration
	MaxRequestsPerConnection uint32
	MaxConnectionDuration    *time.Duration
	// MaxConcurrentStreams and the keepalive apply to HTTP/2 clusters.
	MaxConcurrentStreams uint32
	KeepaliveInterval    *time.Duration
	KeepaliveTimeout     *time.Duration
}

// TCPKeepalive turns SO_KEEPALIVE on for upstream connections; zero fields
// keep the system's values.
type TCPKeepalive struct {
	Probes          uint32
	TimeSeconds     uint32
	IntervalSeconds uint32
}

// HashPolicy is what a consistent-hash cluster hashes for a route: exactly
// one field is set.
type HashPolicy struct {
	Header         string      `json:",omitempty"`
	Cookie         *HashCookie `json:",omitempty"`
	SourceIP       bool        `json:",omitempty"`
	QueryParameter string      `json:",omitempty"`
}

// HashCookie hashes a cookie; with a TTL Envoy sets it when absent.
type HashCookie struct {
	Name       string
	Path       string
	TTL        *time.Duration
	Attributes []Header
}
