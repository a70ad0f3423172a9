package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

func TestBuildListener(t *testing.T) {
	tcp := &ir.TCPChain{StatPrefix: "p", Destinations: []ir.WeightedCluster{{Cluster: "a"}}}
	proxy := func() []*listenerv3.Filter {
		return []*listenerv3.Filter{tcpProxyFilter(t, &tcpv3.TcpProxy{StatPrefix: "p", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "a"}})}
	}
	addr := func(host string, port uint32) *corev3.Address {
		return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}}
	}
	simple := &tlsv3.DownstreamTlsContext{
		CommonTlsContext:         &tlsv3.CommonTlsContext{TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sds("cert")}},
		RequireClientCertificate: wrapperspb.Bool(false),
	}
	tests := map[string]struct {
		in      *ir.Listener
		want    *listenerv3.Listener
		wantErr bool
	}{
		"plain port, default address, catch-all chain": {
			in: &ir.Listener{Name: "l", Port: 5432, Chains: []*ir.Chain{{Name: "c", TCP: tcp}}},
			want: &listenerv3.Listener{
				Name: "l", Address: addr("0.0.0.0", 5432), PerConnectionBufferLimitBytes: wrapperspb.UInt32(32 << 10),
				FilterChains: []*listenerv3.FilterChain{{Name: "c", Filters: proxy()}},
			},
		},
		"SNI chains with TLS termination and passthrough": {
			in: &ir.Listener{Name: "l", Address: "::", Port: 443, TLSInspector: true, Chains: []*ir.Chain{
				{Name: "term", ServerNames: []string{"a.example.com", "*.b.example.com"}, TLS: &ir.DownstreamTLS{Mode: ir.TLSSimple, CertSecrets: []string{"cert"}}, TCP: tcp},
				{Name: "pass", ServerNames: []string{"db.example.com"}, TransportProtocol: "tls", TCP: tcp},
			}},
			want: &listenerv3.Listener{
				Name: "l", Address: addr("::", 443), PerConnectionBufferLimitBytes: wrapperspb.UInt32(32 << 10),
				ListenerFilters: []*listenerv3.ListenerFilter{{
					Name:       "envoy.filters.listener.tls_inspector",
					ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(t, &tlsinspectorv3.TlsInspector{})},
				}},
				FilterChains: []*listenerv3.FilterChain{
					{
						Name:             "term",
						FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"a.example.com", "*.b.example.com"}},
						TransportSocket: &corev3.TransportSocket{
							Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, simple)},
						},
						Filters: proxy(),
					},
					{
						Name:             "pass",
						FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"db.example.com"}, TransportProtocol: "tls"},
						Filters:          proxy(),
					},
				},
			},
		},
		"the port's default server matches any SNI and none": {
			in: &ir.Listener{Name: "l", Port: 443, Chains: []*ir.Chain{
				{Name: "term", ServerNames: []string{"a.example.com"}, DefaultServer: true, TLS: &ir.DownstreamTLS{Mode: ir.TLSSimple, CertSecrets: []string{"cert"}}, TCP: tcp},
			}},
			want: &listenerv3.Listener{
				Name: "l", Address: addr("0.0.0.0", 443), PerConnectionBufferLimitBytes: wrapperspb.UInt32(32 << 10),
				FilterChains: []*listenerv3.FilterChain{{
					Name: "term",
					TransportSocket: &corev3.TransportSocket{
						Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, simple)},
					},
					Filters: proxy(),
				}},
			},
		},
		"chain with HTTP and TCP": {in: &ir.Listener{Name: "l", Port: 1, Chains: []*ir.Chain{{Name: "c", TCP: tcp, HTTP: &ir.HTTPChain{}}}}, wantErr: true},
		"chain with neither":      {in: &ir.Listener{Name: "l", Port: 1, Chains: []*ir.Chain{{Name: "c"}}}, wantErr: true},
		"chain with bad TLS":      {in: &ir.Listener{Name: "l", Port: 1, Chains: []*ir.Chain{{Name: "c", TCP: tcp, TLS: &ir.DownstreamTLS{Mode: ir.TLSSimple}}}}, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildListener(tc.in)
			wantErr(t, err, tc.wantErr)
			diffProto(t, tc.want, got)
		})
	}
}
