package refs

import (
	"fmt"
	"slices"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// Refs are the names a set of listeners and clusters reference over ADS, each
// list sorted and without duplicates.
type Refs struct {
	Routes    []string // RDS route_config_name of HTTP connection managers
	Endpoints []string // EDS service names of EDS clusters
	Secrets   []string // SDS secret names
}

var (
	sdsName = (&tlsv3.SdsSecretConfig{}).ProtoReflect().Descriptor().FullName()
	rdsName = (&hcmv3.Rds{}).ProtoReflect().Descriptor().FullName()
	anyName = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()
)

// Collect returns what the listeners and clusters reference. Only references
// whose config source is ADS count: anything else is not served by us. An
// Any whose type is not linked into the binary is an error, because a
// reference hidden inside it would go unseen (and Envoy would reject it too).
func Collect(listeners []*listenerv3.Listener, clusters []*clusterv3.Cluster) (Refs, error) {
	w := walker{routes: map[string]bool{}, secrets: map[string]bool{}, anys: map[string]*walker{}}
	for _, l := range listeners {
		if err := w.walk(l.ProtoReflect()); err != nil {
			return Refs{}, fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
	}
	endpoints := map[string]bool{}
	for _, c := range clusters {
		if name, ok := EDSName(c); ok {
			endpoints[name] = true
		}
		if err := w.walk(c.ProtoReflect()); err != nil {
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
	// anys holds what each distinct typed config references: the chains
	// of a listener repeat the same TLS context and filters.
	anys map[string]*walker
}

// walk visits every set field of m, descending into messages, lists, maps
// and Any payloads.
func (w walker) walk(m protoreflect.Message) error {
	switch m.Descriptor().FullName() {
	case sdsName:
		if s, ok := m.Interface().(*tlsv3.SdsSecretConfig); ok && isADS(s.GetSdsConfig()) {
			w.secrets[s.GetName()] = true
		}
		return nil
	case rdsName:
		if r, ok := m.Interface().(*hcmv3.Rds); ok && isADS(r.GetConfigSource()) {
			w.routes[r.GetRouteConfigName()] = true
		}
		return nil
	case anyName:
		a, ok := m.Interface().(*anypb.Any)
		if !ok {
			return fmt.Errorf("unexpected Any implementation %T", m.Interface())
		}
		key := a.GetTypeUrl() + "\x00" + string(a.GetValue())
		found := w.anys[key]
		if found == nil {
			inner, err := a.UnmarshalNew()
			if err != nil {
				return fmt.Errorf("unpacking %s: %w", a.GetTypeUrl(), err)
			}
			found = &walker{routes: map[string]bool{}, secrets: map[string]bool{}, anys: w.anys}
			if err := found.walk(inner.ProtoReflect()); err != nil {
				return err
			}
			w.anys[key] = found
		}
		for n := range found.routes {
			w.routes[n] = true
		}
		for n := range found.secrets {
			w.secrets[n] = true
		}
		return nil
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		err = w.field(fd, v)
		return err == nil
	})
	return err
}

func (w walker) field(fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	md := fd.Message()
	if fd.IsMap() {
		md = fd.MapValue().Message()
	}
	if md == nil || !mayReference(md) {
		return nil
	}
	switch {
	case fd.IsList() && fd.Message() != nil:
		l := v.List()
		for i := range l.Len() {
			if err := w.walk(l.Get(i).Message()); err != nil {
				return err
			}
		}
	case fd.IsMap() && fd.MapValue().Message() != nil:
		var err error
		v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
			err = w.walk(mv.Message())
			return err == nil
		})
		return err
	case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
		return w.walk(v.Message())
	}
	return nil
}

// reach caches mayReference by message type.
var reach sync.Map // protoreflect.FullName -> bool

// mayReference reports whether a message of type md can hold, at any depth,
// an SdsSecretConfig, an Rds or an Any (which can hold anything): fields of
// other types are not walked.
func mayReference(md protoreflect.MessageDescriptor) bool {
	if r, ok := reach.Load(md.FullName()); ok {
		return r.(bool)
	}
	r := search(md, map[protoreflect.FullName]bool{})
	reach.Store(md.FullName(), r)
	return r
}

// search walks the types reachable from md, each once.
func search(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	switch md.FullName() {
	case sdsName, rdsName, anyName:
		return true
	}
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		sub := fd.Message()
		if fd.IsMap() {
			sub = fd.MapValue().Message()
		}
		if sub != nil && search(sub, seen) {
			return true
		}
	}
	return false
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
