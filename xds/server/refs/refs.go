package refs

import (
	"fmt"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/protowalk"
)

// Refs are the names a set of listeners and clusters reference over ADS, each
// list sorted and without duplicates.
type Refs struct {
	Routes    []string // RDS route_config_name of HTTP connection managers
	Endpoints []string // EDS service names of EDS clusters
	Secrets   []string // SDS secret names
}

// Collect returns what the listeners and clusters reference. Only references
// whose config source is ADS count: anything else is not served by us. An
// Any whose type is not linked into the binary is an error, because a
// reference hidden inside it would go unseen (and Envoy would reject it too).
func Collect(listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster) (Refs, error) {
	w := walker{routes: map[string]bool{}, secrets: map[string]bool{}}
	for _, l := range listeners {
		if err := w.walk(l); err != nil {
			return Refs{}, fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
	}
	endpoints := map[string]bool{}
	for _, c := range clusters {
		if name, ok := EDSName(c); ok {
			endpoints[name] = true
		}
		if err := w.walk(c); err != nil {
			return Refs{}, fmt.Errorf("cluster %q: %w", c.GetName(), err)
		}
	}
	return Refs{Routes: sorted(w.routes), Endpoints: sorted(endpoints), Secrets: sorted(w.secrets)}, nil
}

// EDSName returns the ClusterLoadAssignment name an EDS cluster fetches over
// ADS: its service_name, or else its own name (Envoy's rule).
func EDSName(c *clusterv3.Cluster) (string, bool) {
	if c.GetType() != clusterv3.Cluster_EDS || !isADS(c.GetEdsClusterConfig().GetEdsConfig()) {
		return "", false
	}
	if n := c.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n, true
	}
	return c.GetName(), true
}

type walker struct {
	routes, secrets map[string]bool
}

// walk records the ADS references of every set field of m, typed configs
// (Any payloads) included.
func (w walker) walk(m proto.Message) error {
	return protowalk.Walker{Visit: w.visit}.Walk(m)
}

func (w walker) visit(m proto.Message, _ *anypb.Any) error {
	switch m := m.(type) {
	case *tlsv3.SdsSecretConfig:
		if isADS(m.GetSdsConfig()) {
			w.secrets[m.GetName()] = true
		}
	case *hcmv3.Rds:
		if isADS(m.GetConfigSource()) {
			w.routes[m.GetRouteConfigName()] = true
		}
	}
	return nil
}

// isADS reports whether a config source points at the ADS stream.
func isADS(cs *corev3.ConfigSource) bool {
	return cs.GetAds() != nil
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
