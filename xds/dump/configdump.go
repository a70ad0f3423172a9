package dump

import (
	"fmt"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
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
	out := &adminv3.ConfigDump{}
	for _, s := range dumpSections(r) {
		d := s.dump.ProtoReflect()
		fd, err := s.listField()
		if err != nil {
			return nil, err
		}
		if len(s.items) > 0 {
			list := d.Mutable(fd).List()
			for _, m := range s.items {
				a, err := anypb.New(m)
				if err != nil {
					return nil, fmt.Errorf("packing %T: %w", m, err)
				}
				list.Append(protoreflect.ValueOfMessage(s.wrap(nameOf(m), a).ProtoReflect()))
			}
		}
		a, err := anypb.New(s.dump)
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

// dumpSection is one config of the ConfigDump: its type's dump (a fresh,
// empty message), the list field that holds its entries, the resources,
// and how one resource's entry is made from its name and its Any.
type dumpSection struct {
	dump  proto.Message
	field protoreflect.Name
	items []proto.Message
	wrap  func(name string, a *anypb.Any) proto.Message
}

// dumpSections are r's configs in Envoy's order; ConfigDump and
// WriteConfigDumpJSON both lay the dump out from them.
func dumpSections(r *translate.Resources) []dumpSection {
	return []dumpSection{
		{&adminv3.ClustersConfigDump{}, "dynamic_active_clusters", messages(r.Clusters), func(_ string, a *anypb.Any) proto.Message {
			return &adminv3.ClustersConfigDump_DynamicCluster{Cluster: a}
		}},
		{&adminv3.EndpointsConfigDump{}, "dynamic_endpoint_configs", messages(r.Endpoints), func(_ string, a *anypb.Any) proto.Message {
			return &adminv3.EndpointsConfigDump_DynamicEndpointConfig{EndpointConfig: a}
		}},
		{&adminv3.ListenersConfigDump{}, "dynamic_listeners", messages(r.Listeners), func(name string, a *anypb.Any) proto.Message {
			return &adminv3.ListenersConfigDump_DynamicListener{
				Name:        name,
				ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{Listener: a},
			}
		}},
		{&adminv3.RoutesConfigDump{}, "dynamic_route_configs", messages(r.Routes), func(_ string, a *anypb.Any) proto.Message {
			return &adminv3.RoutesConfigDump_DynamicRouteConfig{RouteConfig: a}
		}},
		{&adminv3.SecretsConfigDump{}, "dynamic_active_secrets", messages(r.Secrets), func(name string, a *anypb.Any) proto.Message {
			return &adminv3.SecretsConfigDump_DynamicSecret{Name: name, Secret: a}
		}},
	}
}

// listField is the section's list of entries in its dump's type.
func (s dumpSection) listField() (protoreflect.FieldDescriptor, error) {
	md := s.dump.ProtoReflect().Descriptor()
	fd := md.Fields().ByName(s.field)
	if fd == nil {
		return nil, fmt.Errorf("%s has no field %s", md.FullName(), s.field)
	}
	return fd, nil
}

// nameOf is a resource's name, "" for a type without one (a load
// assignment).
func nameOf(m proto.Message) string {
	if n, ok := m.(interface{ GetName() string }); ok {
		return n.GetName()
	}
	return ""
}
