package translate

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// edgeHTTP2 is the HTTP/2 settings of Envoy's edge-proxy best practices.
func edgeHTTP2() *corev3.Http2ProtocolOptions {
	return &corev3.Http2ProtocolOptions{
		MaxConcurrentStreams:        wrapperspb.UInt32(100),
		InitialStreamWindowSize:     wrapperspb.UInt32(64 << 10),
		InitialConnectionWindowSize: wrapperspb.UInt32(1 << 20),
	}
}

// TestEdgeLimits checks the settings of Envoy's "Configuring Envoy as an
// edge proxy" page on every listener, HTTP connection manager and cluster.
func TestEdgeLimits(t *testing.T) {
	t.Run("listener buffer limit", func(t *testing.T) {
		for name, chain := range map[string]*ir.Chain{
			"http": {Name: "c", HTTP: &ir.HTTPChain{StatPrefix: "s", RouteConfig: "r"}},
			"tcp":  {Name: "c", TCP: &ir.TCPChain{StatPrefix: "s", Destinations: []ir.WeightedCluster{{Cluster: "a"}}}},
		} {
			l, err := buildListener(&ir.Listener{Name: "l", Port: 443, Chains: []*ir.Chain{chain}})
			wantErr(t, err, false)
			diffProto(t, wrapperspb.UInt32(32<<10), l.GetPerConnectionBufferLimitBytes())
			if t.Failed() {
				t.Fatalf("%s chain", name)
			}
		}
	})
	t.Run("connection manager", func(t *testing.T) {
		f, err := buildHCM(&ir.Chain{HTTP: &ir.HTTPChain{StatPrefix: "s", RouteConfig: "r"}})
		wantErr(t, err, false)
		m := &hcmv3.HttpConnectionManager{}
		if err := f.GetTypedConfig().UnmarshalTo(m); err != nil {
			t.Fatal(err)
		}
		diffProto(t, edgeHTTP2(), m.GetHttp2ProtocolOptions())
		diffProto(t, durationpb.New(time.Hour), m.GetCommonHttpProtocolOptions().GetIdleTimeout())
		diffProto(t, durationpb.New(5*time.Minute), m.GetStreamIdleTimeout())
		diffProto(t, durationpb.New(10*time.Second), m.GetRequestHeadersTimeout())
		if m.GetRequestTimeout() != nil {
			t.Error("request_timeout is set: it would cut WebSockets, gRPC streams and long uploads")
		}
	})
	t.Run("clusters", func(t *testing.T) {
		for name, tc := range map[string]struct {
			http2 bool
		}{"HTTP/1.1": {}, "HTTP/2": {http2: true}} {
			c, _, err := buildCluster(&ir.Cluster{Name: "c", Kind: ir.ClusterStatic, HTTP2: tc.http2})
			wantErr(t, err, false)
			diffProto(t, wrapperspb.UInt32(32<<10), c.GetPerConnectionBufferLimitBytes())
			if tc.http2 {
				diffProto(t, edgeHTTP2Upstream(), upstreamH2(t, c))
			}
			if t.Failed() {
				t.Fatalf("%s cluster", name)
			}
		}
	})
}

// edgeHTTP2Upstream is the best practices' HTTP/2 windows towards backends
// (no stream limit: that one guards against clients).
func edgeHTTP2Upstream() *corev3.Http2ProtocolOptions {
	return &corev3.Http2ProtocolOptions{
		InitialStreamWindowSize:     wrapperspb.UInt32(64 << 10),
		InitialConnectionWindowSize: wrapperspb.UInt32(1 << 20),
	}
}

// upstreamH2 is a cluster's explicit HTTP/2 options.
func upstreamH2(t *testing.T, c *clusterv3.Cluster) *corev3.Http2ProtocolOptions {
	t.Helper()
	o := &httpv3.HttpProtocolOptions{}
	if err := c.GetTypedExtensionProtocolOptions()[httpProtocolOptions].UnmarshalTo(o); err != nil {
		t.Fatal(err)
	}
	return o.GetExplicitHttpConfig().GetHttp2ProtocolOptions()
}
