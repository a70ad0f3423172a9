package translate

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// TestApplyClusterPolicy checks each traffic-policy part on a cluster; the
// outputs pass ValidateAll in buildCluster's callers (Check) and here.
func TestApplyClusterPolicy(t *testing.T) {
	five, zero := uint32(5), uint32(0)
	http1 := func(o *httpv3.HttpProtocolOptions) *httpv3.HttpProtocolOptions {
		o.UpstreamProtocolOptions = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
		}}
		return o
	}
	tests := map[string]struct {
		in      *ir.Cluster
		want    *clusterv3.Cluster
		wantErr bool
	}{
		"least request with slow start": {
			in: &ir.Cluster{LB: &ir.LoadBalancer{Policy: ir.LBLeastRequest, SlowStart: &ir.SlowStart{Window: time.Minute, Aggression: 1, MinWeightPercent: 10}}},
			want: &clusterv3.Cluster{LbPolicy: clusterv3.Cluster_LEAST_REQUEST, LbConfig: &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{
				SlowStartConfig: &clusterv3.Cluster_SlowStartConfig{
					SlowStartWindow:  durationpb.New(time.Minute),
					Aggression:       &corev3.RuntimeDouble{DefaultValue: 1, RuntimeKey: slowStartAggressionKey},
					MinWeightPercent: &typev3.Percent{Value: 10},
				},
			}}},
		},
		"ring hash size": {
			in:   &ir.Cluster{LB: &ir.LoadBalancer{Policy: ir.LBRingHash, MinimumRingSize: 1024}},
			want: &clusterv3.Cluster{LbPolicy: clusterv3.Cluster_RING_HASH, LbConfig: &clusterv3.Cluster_RingHashLbConfig_{RingHashLbConfig: &clusterv3.Cluster_RingHashLbConfig{MinimumRingSize: wrapperspb.UInt64(1024)}}},
		},
		"slow start with random is refused": {
			in: &ir.Cluster{LB: &ir.LoadBalancer{Policy: ir.LBRandom, SlowStart: &ir.SlowStart{Window: time.Second}}}, wantErr: true,
		},
		"unknown policy": {in: &ir.Cluster{LB: &ir.LoadBalancer{Policy: "FASTEST"}}, wantErr: true},
		"circuit breakers, outlier detection, keepalive": {
			in: &ir.Cluster{
				CircuitBreakers: &ir.CircuitBreakers{MaxConnections: 10, MaxRetries: 3, RetryBudget: &ir.RetryBudget{Percent: 20, MinRetryConcurrency: 3}},
				Outlier:         &ir.OutlierDetection{Consecutive5xx: &five, ConsecutiveGatewayFailure: &zero, MaxEjectionPercent: 50, Interval: translatetest.Ptr(10 * time.Second)},
				TCPKeepalive:    &ir.TCPKeepalive{Probes: 3, TimeSeconds: 60},
			},
			want: &clusterv3.Cluster{
				CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
					MaxConnections: wrapperspb.UInt32(10), MaxRetries: wrapperspb.UInt32(3),
					RetryBudget: &clusterv3.CircuitBreakers_Thresholds_RetryBudget{BudgetPercent: &typev3.Percent{Value: 20}, MinRetryConcurrency: wrapperspb.UInt32(3)},
				}}},
				OutlierDetection: &clusterv3.OutlierDetection{
					EnforcingSuccessRate: wrapperspb.UInt32(0),
					Consecutive_5Xx:      wrapperspb.UInt32(5), EnforcingConsecutive_5Xx: wrapperspb.UInt32(100),
					ConsecutiveGatewayFailure: wrapperspb.UInt32(0), EnforcingConsecutiveGatewayFailure: wrapperspb.UInt32(0),
					Interval: durationpb.New(10 * time.Second), MaxEjectionPercent: wrapperspb.UInt32(50),
				},
				CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
				UpstreamConnectionOptions: &clusterv3.UpstreamConnectionOptions{TcpKeepalive: &corev3.TcpKeepalive{
					KeepaliveProbes: wrapperspb.UInt32(3), KeepaliveTime: wrapperspb.UInt32(60),
				}},
			},
		},
		"connection settings name HTTP/1.1 explicitly": {
			in: &ir.Cluster{HTTPOptions: &ir.UpstreamHTTP{IdleTimeout: translatetest.Ptr(time.Duration(0)), MaxRequestsPerConnection: 1}},
			want: &clusterv3.Cluster{TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptions: mustAny(t, http1(&httpv3.HttpProtocolOptions{
				CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{IdleTimeout: durationpb.New(0), MaxRequestsPerConnection: wrapperspb.UInt32(1)},
			}))}},
		},
		"client's protocol": {
			in: &ir.Cluster{UseDownstreamProtocol: true, HTTP2: true},
			want: &clusterv3.Cluster{TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptions: mustAny(t, &httpv3.HttpProtocolOptions{
				UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{UseDownstreamProtocolConfig: &httpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
					HttpProtocolOptions: &corev3.Http1ProtocolOptions{}, Http2ProtocolOptions: edgeHTTP2Upstream(),
				}},
			})}},
		},
		"HTTP/2 keepalive without a timeout fails validation": {
			in:      &ir.Cluster{HTTP2: true, HTTPOptions: &ir.UpstreamHTTP{KeepaliveInterval: translatetest.Ptr(time.Second)}},
			wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := &clusterv3.Cluster{}
			err := applyClusterPolicy(got, tc.in)
			wantErr(t, err, tc.wantErr)
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("cluster (-want +got):\n%s", diff)
			}
		})
	}
}
