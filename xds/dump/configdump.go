package dump

import (
	"fmt"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	"github.com/trustgate/trustgate/xds/translate"
)

// ConfigDump returns r as Envoy's admin.v3.ConfigDump, the document Envoy's
// /config_dump?include_eds serves, so that tools reading Envoy config dumps
// read trustgate's output too. Every resource is a dynamic (xDS) resource
// in its type's dump, in Envoy's order: clusters, endpoints, listeners,
// routes, secrets. Versions and update times are left out: they belong to
// a snapshot served to a proxy, not to a translation, and leaving them out
// keeps the output deterministic. Sensitive fields are redacted unless
// showSecrets is set.
func ConfigDump(r *translate.Resources, showSecrets bool) (*adminv3.ConfigDump, error) {
	parts := []func(*translate.Resources) (proto.Message, error){
		clustersDump, endpointsDump, listenersDump, routesDump, secretsDump,
	}
	out := &adminv3.ConfigDump{}
	for _, part := range parts {
		m, err := part(r)
		if err != nil {
			return nil, err
		}
		a, err := anypb.New(m)
		if err != nil {
			return nil, err
		}
		out.Configs = append(out.Configs, a)
	}
	if showSecrets {
		return out, nil
	}
	redacted, err := redact(out)
	if err != nil {
		return nil, err
	}
	return redacted.(*adminv3.ConfigDump), nil
}

// ConfigDumpJSON renders ConfigDump as indented JSON with stable whitespace.
func ConfigDumpJSON(r *translate.Resources, showSecrets bool) ([]byte, error) {
	d, err := ConfigDump(r, showSecrets)
	if err != nil {
		return nil, err
	}
	return indent(d)
}

// ConfigDumpYAML renders ConfigDump as YAML (the JSON converted; keys come
// out sorted).
func ConfigDumpYAML(r *translate.Resources, showSecrets bool) ([]byte, error) {
	j, err := ConfigDumpJSON(r, showSecrets)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}

// packAll packs each resource into an Any.
func packAll[T proto.Message](ms []T) ([]*anypb.Any, error) {
	out := make([]*anypb.Any, 0, len(ms))
	for _, m := range ms {
		a, err := anypb.New(m)
		if err != nil {
			return nil, fmt.Errorf("packing %T: %w", m, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func clustersDump(r *translate.Resources) (proto.Message, error) {
	as, err := packAll(r.Clusters)
	d := &adminv3.ClustersConfigDump{}
	for _, a := range as {
		d.DynamicActiveClusters = append(d.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{Cluster: a})
	}
	return d, err
}

func endpointsDump(r *translate.Resources) (proto.Message, error) {
	as, err := packAll(r.Endpoints)
	d := &adminv3.EndpointsConfigDump{}
	for _, a := range as {
		d.DynamicEndpointConfigs = append(d.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{EndpointConfig: a})
	}
	return d, err
}

func listenersDump(r *translate.Resources) (proto.Message, error) {
	as, err := packAll(r.Listeners)
	d := &adminv3.ListenersConfigDump{}
	for i, a := range as {
		d.DynamicListeners = append(d.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name:        r.Listeners[i].GetName(),
			ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{Listener: a},
		})
	}
	return d, err
}

func routesDump(r *translate.Resources) (proto.Message, error) {
	as, err := packAll(r.Routes)
	d := &adminv3.RoutesConfigDump{}
	for _, a := range as {
		d.DynamicRouteConfigs = append(d.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{RouteConfig: a})
	}
	return d, err
}

func secretsDump(r *translate.Resources) (proto.Message, error) {
	as, err := packAll(r.Secrets)
	d := &adminv3.SecretsConfigDump{}
	for i, a := range as {
		d.DynamicActiveSecrets = append(d.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{
			Name: r.Secrets[i].GetName(), Secret: a,
		})
	}
	return d, err
}
