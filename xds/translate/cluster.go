package translate

import (
	"fmt"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// defaultConnectTimeout applies when the IR leaves ConnectTimeout zero;
// Envoy requires a positive value.
const defaultConnectTimeout = 5 * time.Second

// buildCluster converts an IR cluster. For EDS clusters it also returns the
// ClusterLoadAssignment to send over EDS; otherwise that result is nil.
func buildCluster(c *ir.Cluster) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment, error) {
	timeout := c.ConnectTimeout
	if timeout <= 0 {
		timeout = defaultConnectTimeout
	}
	out := &clusterv3.Cluster{Name: c.Name, ConnectTimeout: durationpb.New(timeout), PerConnectionBufferLimitBytes: bufferLimit()}
	var eds *endpointv3.ClusterLoadAssignment
	switch c.Kind {
	case ir.ClusterStrictDNS, ir.ClusterStatic:
		out.ClusterDiscoveryType = discoveryType(c.Kind)
		out.LoadAssignment = loadAssignment(c.Name, c.Endpoints)
	case ir.ClusterEDS:
		out.ClusterDiscoveryType = discoveryType(c.Kind)
		// service_name is left empty: Envoy then asks EDS for the
		// cluster's own name, which is what the CLA is named.
		out.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsConfigSource()}
		eds = loadAssignment(c.Name, c.Endpoints)
	default:
		return nil, nil, fmt.Errorf("unknown cluster kind %q", c.Kind)
	}
	if err := applyClusterPolicy(out, c); err != nil {
		return nil, nil, err
	}
	if c.TLS != nil {
		ctx, err := buildUpstreamTLS(c.TLS)
		if err != nil {
			return nil, nil, fmt.Errorf("tls: %w", err)
		}
		if out.TransportSocket, err = tlsTransportSocket(ctx); err != nil {
			return nil, nil, fmt.Errorf("tls: %w", err)
		}
	}
	return out, eds, nil
}

// discoveryType maps a cluster kind to Envoy's discovery type.
func discoveryType(k ir.ClusterKind) *clusterv3.Cluster_Type {
	t := map[ir.ClusterKind]clusterv3.Cluster_DiscoveryType{
		ir.ClusterStatic:    clusterv3.Cluster_STATIC,
		ir.ClusterStrictDNS: clusterv3.Cluster_STRICT_DNS,
		ir.ClusterEDS:       clusterv3.Cluster_EDS,
	}[k]
	return &clusterv3.Cluster_Type{Type: t}
}

// loadAssignment lists a cluster's endpoints in one locality.
func loadAssignment(cluster string, eps []ir.Endpoint) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: cluster}
	if len(eps) == 0 {
		return cla
	}
	loc := &endpointv3.LocalityLbEndpoints{}
	for _, ep := range eps {
		lb := &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
			Endpoint: &endpointv3.Endpoint{Address: socketAddress(ep.Address, ep.Port)},
		}}
		if ep.Weight > 0 {
			lb.LoadBalancingWeight = wrapperspb.UInt32(ep.Weight)
		}
		loc.LbEndpoints = append(loc.LbEndpoints, lb)
	}
	cla.Endpoints = []*endpointv3.LocalityLbEndpoints{loc}
	return cla
}

// socketAddress is a TCP address.
func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
