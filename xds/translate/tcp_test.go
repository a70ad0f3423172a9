package translate

import (
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacnetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/trustgate/trustgate/xds/ir"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// tcpProxyFilter packs a tcp_proxy config.
func tcpProxyFilter(t *testing.T, p *tcpv3.TcpProxy) *listenerv3.Filter {
	return &listenerv3.Filter{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, p)}}
}

func TestTCPFilters(t *testing.T) {
	one := []ir.WeightedCluster{{Cluster: "a"}}
	tests := map[string]struct {
		in      *ir.Chain
		want    []*listenerv3.Filter
		wantErr bool
	}{
		"one cluster": {
			in:   &ir.Chain{TCP: &ir.TCPChain{StatPrefix: "p", Destinations: one}},
			want: []*listenerv3.Filter{tcpProxyFilter(t, &tcpv3.TcpProxy{StatPrefix: "p", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "a"}})},
		},
		"weighted, idle timeout, max connection duration": {
			in: &ir.Chain{
				MaxConnectionDuration: time.Hour,
				TCP: &ir.TCPChain{
					StatPrefix: "p", IdleTimeout: translatetest.Ptr(2 * time.Hour),
					Destinations: []ir.WeightedCluster{{Cluster: "a", Weight: 3}, {Cluster: "b", Weight: 1}},
				},
			},
			want: []*listenerv3.Filter{tcpProxyFilter(t, &tcpv3.TcpProxy{
				StatPrefix: "p",
				ClusterSpecifier: &tcpv3.TcpProxy_WeightedClusters{WeightedClusters: &tcpv3.TcpProxy_WeightedCluster{
					Clusters: []*tcpv3.TcpProxy_WeightedCluster_ClusterWeight{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}},
				}},
				IdleTimeout:                     durationpb.New(2 * time.Hour),
				MaxDownstreamConnectionDuration: durationpb.New(time.Hour),
			})},
		},
		"DestinationRule: source-IP hash, shorter lifetime wins, idle timeout off": {
			in: &ir.Chain{
				MaxConnectionDuration: time.Hour,
				TCP: &ir.TCPChain{
					StatPrefix: "p", Destinations: one, HashSourceIP: true,
					IdleTimeout: translatetest.Ptr(time.Duration(0)), MaxConnectionDuration: translatetest.Ptr(20 * time.Minute),
				},
			},
			want: []*listenerv3.Filter{tcpProxyFilter(t, &tcpv3.TcpProxy{
				StatPrefix: "p", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "a"},
				HashPolicy:                      []*typev3.HashPolicy{{PolicySpecifier: &typev3.HashPolicy_SourceIp_{SourceIp: &typev3.HashPolicy_SourceIp{}}}},
				IdleTimeout:                     durationpb.New(0),
				MaxDownstreamConnectionDuration: durationpb.New(20 * time.Minute),
			})},
		},
		"a longer DestinationRule lifetime never extends the revocation bound": {
			in: &ir.Chain{
				MaxConnectionDuration: time.Hour,
				TCP:                   &ir.TCPChain{StatPrefix: "p", Destinations: one, MaxConnectionDuration: translatetest.Ptr(8 * time.Hour)},
			},
			want: []*listenerv3.Filter{tcpProxyFilter(t, &tcpv3.TcpProxy{
				StatPrefix: "p", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "a"},
				MaxDownstreamConnectionDuration: durationpb.New(time.Hour),
			})},
		},
		"DestinationRule lifetime without a chain bound": {
			in: &ir.Chain{TCP: &ir.TCPChain{StatPrefix: "p", Destinations: one, MaxConnectionDuration: translatetest.Ptr(8 * time.Hour)}},
			want: []*listenerv3.Filter{tcpProxyFilter(t, &tcpv3.TcpProxy{
				StatPrefix: "p", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "a"},
				MaxDownstreamConnectionDuration: durationpb.New(8 * time.Hour),
			})},
		},
		"network RBAC before the proxy": {
			in: &ir.Chain{
				RBAC: &ir.RBAC{Deny: []ir.AuthzRule{{Name: "d", To: []ir.Operation{{Ports: []uint32{1}}}}}, HasAllow: true},
				TCP:  &ir.TCPChain{StatPrefix: "p", Destinations: one},
			},
			want: []*listenerv3.Filter{
				{Name: "envoy.filters.network.rbac", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &rbacnetv3.RBAC{
					StatPrefix: "p.deny.",
					Rules:      &rbacv3.RBAC{Action: rbacv3.RBAC_DENY, Policies: map[string]*rbacv3.Policy{"d": policy(pPort(1), iAny())}},
				})}},
				{Name: "envoy.filters.network.rbac", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &rbacnetv3.RBAC{
					StatPrefix: "p.allow.",
					Rules:      &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW, Policies: map[string]*rbacv3.Policy{}},
				})}},
				tcpProxyFilter(t, &tcpv3.TcpProxy{StatPrefix: "p", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "a"}}),
			},
		},
		"no destination": {in: &ir.Chain{TCP: &ir.TCPChain{StatPrefix: "p"}}, wantErr: true},
		"headers on a TCP destination": {
			in:      &ir.Chain{TCP: &ir.TCPChain{StatPrefix: "p", Destinations: []ir.WeightedCluster{{Cluster: "a", Headers: ir.HeaderOps{Request: ir.HeaderOp{Remove: []string{"x"}}}}}}},
			wantErr: true,
		},
		"empty stat prefix": {in: &ir.Chain{TCP: &ir.TCPChain{Destinations: one}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tcpFilters(tc.in)
			wantErr(t, err, tc.wantErr)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d filters, want %d", len(got), len(tc.want))
			}
			for i := range tc.want {
				diffProto(t, tc.want[i], got[i])
			}
		})
	}
}
