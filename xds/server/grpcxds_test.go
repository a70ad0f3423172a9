package server_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/translate"

	// Registers the xds resolver's load balancing policies.
	xdsgrpc "google.golang.org/grpc/xds"
)

// grpcConfig serves gRPC's own xDS client: an API listener named after the
// target with its routes inline, an EDS cluster, and its endpoints.
type grpcConfig struct{ backend string }

func (c grpcConfig) Compile(map[string]string) (*translate.Resources, error) {
	host, port, err := net.SplitHostPort(c.backend)
	if err != nil {
		return nil, err
	}
	var p uint32
	if _, err := fmt.Sscan(port, &p); err != nil {
		return nil, err
	}
	router, err := anypb.New(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	hcm, err := anypb.New(&hcmv3.HttpConnectionManager{
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: "health",
			VirtualHosts: []*routev3.VirtualHost{{Name: "all", Domains: []string{"*"}, Routes: []*routev3.Route{{
				Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: ""}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "backend"}}},
			}}}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{{Name: "router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}},
	})
	if err != nil {
		return nil, err
	}
	return &translate.Resources{
		Listeners: []*listenerv3.Listener{{Name: "health.test", ApiListener: &listenerv3.ApiListener{ApiListener: hcm}}},
		Clusters: []*clusterv3.Cluster{{
			Name:                 "backend",
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
			EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
				ResourceApiVersion:    corev3.ApiVersion_V3,
			}},
		}},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{
			ClusterName: "backend",
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LoadBalancingWeight: wrapperspb.UInt32(1),
				Locality:            &corev3.Locality{Region: "test"},
				LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: p},
					}}},
				}}}},
			}},
		}},
	}, nil
}

// TestGRPCXDSClient has gRPC's own xDS client, an implementation
// independent of ours, resolve a target through the server and call it.
func TestGRPCXDSClient(t *testing.T) {
	backendLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := grpc.NewServer()
	healthpb.RegisterHealthServer(backend, health.NewServer()) // SERVING for ""
	go func() { _ = backend.Serve(backendLis) }()              // returns when stopped
	t.Cleanup(backend.Stop)

	h := &harness{t: t, compiles: &compileCounter{n: map[string]int{}}}
	h.start(server.Options{
		Loader: func() (server.Config, error) { return grpcConfig{backend: backendLis.Addr().String()}, nil },
		Logger: testLogger(t),
	})
	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],
		"node": {"id": "grpc-client", "metadata": {"labels": {"app": "grpc"}}}
	}`, h.addr)
	resolver, err := xdsgrpc.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///health.test", grpc.WithResolvers(resolver), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := conn.Close(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("health check through xds:///health.test: %v", err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("status %v, want SERVING", resp.GetStatus())
	}
	eventually(t, "gRPC's client on /debug/proxies", func() error {
		ps := h.proxies()
		if len(ps) != 1 || ps[0].NodeID != "grpc-client" || ps[0].Group != "app=grpc" {
			return fmt.Errorf("proxies %+v", ps)
		}
		for _, typ := range []string{"listener", "cluster", "endpoint"} {
			if ps[0].Types[typ].AckedVersion == "" || ps[0].Types[typ].LastNACK != nil {
				return fmt.Errorf("%s: %+v", typ, ps[0].Types[typ])
			}
		}
		return nil
	})
}
