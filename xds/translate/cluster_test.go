package translate

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// lbEndpoint is one endpoint of a load assignment.
func lbEndpoint(host string, port, weight uint32) *endpointv3.LbEndpoint {
	ep := &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
	}}}
	if weight > 0 {
		ep.LoadBalancingWeight = wrapperspb.UInt32(weight)
	}
	return ep
}

// cla is a one-locality load assignment.
func cla(name string, eps ...*endpointv3.LbEndpoint) *endpointv3.ClusterLoadAssignment {
	out := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	if len(eps) > 0 {
		out.Endpoints = []*endpointv3.LocalityLbEndpoints{{LbEndpoints: eps}}
	}
	return out
}

func TestBuildCluster(t *testing.T) {
	http2 := &httpv3.HttpProtocolOptions{UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
		ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: edgeHTTP2Upstream()},
		},
	}}
	upstream := &tlsv3.UpstreamTlsContext{Sni: "s", CommonTlsContext: &tlsv3.CommonTlsContext{}}
	tests := map[string]struct {
		in      *ir.Cluster
		want    *clusterv3.Cluster
		wantEDS *endpointv3.ClusterLoadAssignment
		wantErr bool
	}{
		"strict dns with default connect timeout and weights": {
			in: &ir.Cluster{Name: "c", Kind: ir.ClusterStrictDNS, Endpoints: []ir.Endpoint{{Address: "a.internal", Port: 80, Weight: 2}, {Address: "b.internal", Port: 80}}},
			want: &clusterv3.Cluster{
				Name: "c", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
				ConnectTimeout:                durationpb.New(5 * time.Second),
				PerConnectionBufferLimitBytes: wrapperspb.UInt32(32 << 10),
				LoadAssignment:                cla("c", lbEndpoint("a.internal", 80, 2), lbEndpoint("b.internal", 80, 0)),
			},
		},
		"static with TLS": {
			in: &ir.Cluster{Name: "c", Kind: ir.ClusterStatic, ConnectTimeout: time.Second, Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 443}}, TLS: &ir.UpstreamTLS{SNI: "s", InsecureSkipVerify: true}},
			want: &clusterv3.Cluster{
				Name: "c", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
				ConnectTimeout:                durationpb.New(time.Second),
				PerConnectionBufferLimitBytes: wrapperspb.UInt32(32 << 10),
				LoadAssignment:                cla("c", lbEndpoint("10.0.0.1", 443, 0)),
				TransportSocket: &corev3.TransportSocket{
					Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, upstream)},
				},
			},
		},
		"eds with HTTP/2": {
			in: &ir.Cluster{Name: "e", Kind: ir.ClusterEDS, HTTP2: true, Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 9000}}},
			want: &clusterv3.Cluster{
				Name: "e", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
				ConnectTimeout:                durationpb.New(5 * time.Second),
				PerConnectionBufferLimitBytes: wrapperspb.UInt32(32 << 10),
				EdsClusterConfig:              &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads()},
				TypedExtensionProtocolOptions: map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(t, http2)},
			},
			wantEDS: cla("e", lbEndpoint("10.0.0.1", 9000, 0)),
		},
		"eds without endpoints still gets an assignment": {
			in: &ir.Cluster{Name: "e", Kind: ir.ClusterEDS},
			want: &clusterv3.Cluster{
				Name: "e", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
				ConnectTimeout:                durationpb.New(5 * time.Second),
				PerConnectionBufferLimitBytes: wrapperspb.UInt32(32 << 10),
				EdsClusterConfig:              &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads()},
			},
			wantEDS: cla("e"),
		},
		"unknown kind":   {in: &ir.Cluster{Name: "c", Kind: "LOGICAL_DNS"}, wantErr: true},
		"bad TLS params": {in: &ir.Cluster{Name: "c", Kind: ir.ClusterStatic, TLS: &ir.UpstreamTLS{MinVersion: "SSLv3"}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, eds, err := buildCluster(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
			diffProto(t, tc.wantEDS, eds)
		})
	}
}
