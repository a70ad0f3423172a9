package translate

import (
	"errors"
	"fmt"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/trustgate/trustgate/xds/ir"
)

// tcpFilters is a TCP chain's network filters, in this order:
// set_filter_state (certificate fields for RBAC) -> RBAC DENY -> RBAC ALLOW
// -> tcp_proxy.
func tcpFilters(c *ir.Chain) ([]*listenerv3.Filter, error) {
	deny, allow, peers, err := chainRBAC(c, false)
	if err != nil {
		return nil, err
	}
	prefix := c.TCP.StatPrefix
	return buildSteps([]step[*listenerv3.Filter]{
		{len(peers) > 0, func() (*listenerv3.Filter, error) { return peerStateNetworkFilter(peers) }},
		{deny != nil, func() (*listenerv3.Filter, error) { return rbacNetworkFilter(deny, prefix) }},
		{allow != nil, func() (*listenerv3.Filter, error) { return rbacNetworkFilter(allow, prefix) }},
		{true, func() (*listenerv3.Filter, error) { return buildTCPProxy(c) }},
	})
}

// buildTCPProxy proxies the connection to one cluster or, weighted, several.
func buildTCPProxy(c *ir.Chain) (*listenerv3.Filter, error) {
	t := c.TCP
	p := &tcpv3.TcpProxy{StatPrefix: t.StatPrefix}
	for _, d := range t.Destinations {
		if hasHeaderOps(d.Headers) {
			return nil, fmt.Errorf("tcp destination %q: header operations on a TCP route", d.Cluster)
		}
	}
	switch len(t.Destinations) {
	case 0:
		return nil, errors.New("tcp chain without a destination")
	case 1:
		p.ClusterSpecifier = &tcpv3.TcpProxy_Cluster{Cluster: t.Destinations[0].Cluster}
	default:
		wc := &tcpv3.TcpProxy_WeightedCluster{}
		for _, d := range t.Destinations {
			wc.Clusters = append(wc.Clusters, &tcpv3.TcpProxy_WeightedCluster_ClusterWeight{Name: d.Cluster, Weight: d.Weight})
		}
		p.ClusterSpecifier = &tcpv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
	}
	if t.IdleTimeout != nil {
		p.IdleTimeout = durationpb.New(*t.IdleTimeout)
	}
	if t.HashSourceIP {
		p.HashPolicy = []*typev3.HashPolicy{{PolicySpecifier: &typev3.HashPolicy_SourceIp_{SourceIp: &typev3.HashPolicy_SourceIp{}}}}
	}
	// The chain's bound (how long a since-revoked certificate keeps a
	// connection: CRL updates only apply to new handshakes) and the
	// DestinationRule's maxConnectionDuration: the shorter wins.
	if d := shorter(c.MaxConnectionDuration, t.MaxConnectionDuration); d > 0 {
		p.MaxDownstreamConnectionDuration = durationpb.New(d)
	}
	return networkFilter(wellknown.TCPProxy, p)
}

// shorter is the shorter of a bound (0: none) and an optional one.
func shorter(d time.Duration, o *time.Duration) time.Duration {
	if o != nil && *o > 0 && (d == 0 || *o < d) {
		return *o
	}
	return d
}
