package envoytest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/server/refs"
)

// Type URLs, in the order Envoy initialises them.
const (
	ClusterType  = resource.ClusterType
	EndpointType = resource.EndpointType
	ListenerType = resource.ListenerType
	RouteType    = resource.RouteType
	SecretType   = resource.SecretType
)

// wildcardTypes are subscribed to as a whole; the others by name.
var wildcardTypes = map[string]bool{ClusterType: true, ListenerType: true}

// View is what the fake Envoy has accepted.
type View struct {
	Listeners map[string]*listenerv3.Listener
	Routes    map[string]*routev3.RouteConfiguration
	Clusters  map[string]*clusterv3.Cluster
	Endpoints map[string]*endpointv3.ClusterLoadAssignment
	Secrets   map[string]*tlsv3.Secret
	// Versions is the version accepted per type URL: SotW version_info, or
	// delta system_version_info of the last ACKed response.
	Versions map[string]string
	// ResourceVersions is the version of each resource per type URL (delta).
	ResourceVersions map[string]map[string]string
	// Received is the number of responses received so far.
	Received int
}

// Missing returns what the view lacks to be a complete configuration —
// listeners and clusters received, every referenced route, endpoint and
// secret present — or "" when complete.
func (v View) Missing() string {
	var miss []string
	if _, ok := v.Versions[ClusterType]; !ok {
		miss = append(miss, "no CDS response accepted")
	}
	if _, ok := v.Versions[ListenerType]; !ok {
		miss = append(miss, "no LDS response accepted")
	}
	r, err := refs.Collect(values(v.Listeners), values(v.Clusters))
	if err != nil {
		return err.Error()
	}
	miss = append(miss, absent("route", r.Routes, v.Routes)...)
	miss = append(miss, absent("endpoint", r.Endpoints, v.Endpoints)...)
	miss = append(miss, absent("secret", r.Secrets, v.Secrets)...)
	return strings.Join(miss, "; ")
}

func absent[M any](kind string, names []string, have map[string]M) []string {
	var out []string
	for _, n := range names {
		if _, ok := have[n]; !ok {
			out = append(out, fmt.Sprintf("%s %q", kind, n))
		}
	}
	return out
}

func values[M any](m map[string]M) []M {
	out := make([]M, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// state is the client's accepted resources and subscriptions.
type state struct {
	resources map[string]map[string]proto.Message // type URL -> name -> resource
	versions  map[string]string                   // type URL -> accepted version
	resVers   map[string]map[string]string        // type URL -> name -> version (delta)
	// subscribed are the names asked for, per named type; requested marks
	// the types asked for at all on the current stream.
	subscribed map[string][]string
}

func newState() *state {
	return &state{
		resources: map[string]map[string]proto.Message{}, versions: map[string]string{},
		resVers: map[string]map[string]string{}, subscribed: map[string][]string{},
	}
}

func (s *state) view(received int) View {
	v := View{
		Listeners: typed[*listenerv3.Listener](s.resources[ListenerType]),
		Routes:    typed[*routev3.RouteConfiguration](s.resources[RouteType]),
		Clusters:  typed[*clusterv3.Cluster](s.resources[ClusterType]),
		Endpoints: typed[*endpointv3.ClusterLoadAssignment](s.resources[EndpointType]),
		Secrets:   typed[*tlsv3.Secret](s.resources[SecretType]),
		Versions:  maps.Clone(s.versions), ResourceVersions: map[string]map[string]string{},
		Received: received,
	}
	for t, m := range s.resVers {
		v.ResourceVersions[t] = maps.Clone(m)
	}
	return v
}

func typed[M proto.Message](m map[string]proto.Message) map[string]M {
	out := make(map[string]M, len(m))
	for k, v := range m {
		if t, ok := v.(M); ok {
			out[k] = t
		}
	}
	return out
}

// wants returns the names the accepted listeners and clusters reference, by
// type URL. Before listeners were asked for, only the clusters count.
func (s *state) wants() (map[string][]string, error) {
	r, err := refs.Collect(
		values(typed[*listenerv3.Listener](s.resources[ListenerType])),
		values(typed[*clusterv3.Cluster](s.resources[ClusterType])),
	)
	if err != nil {
		return nil, err
	}
	return map[string][]string{RouteType: r.Routes, EndpointType: r.Endpoints, SecretType: r.Secrets}, nil
}

// clustersWarm reports whether every endpoint and secret the clusters need
// has arrived: until then Envoy does not ask for listeners.
func (s *state) clustersWarm() (bool, error) {
	r, err := refs.Collect(nil, values(typed[*clusterv3.Cluster](s.resources[ClusterType])))
	if err != nil {
		return false, err
	}
	if _, ok := s.versions[ClusterType]; !ok {
		return false, nil
	}
	for _, n := range r.Endpoints {
		if _, ok := s.resources[EndpointType][n]; !ok {
			return false, nil
		}
	}
	for _, n := range r.Secrets {
		if _, ok := s.resources[SecretType][n]; !ok {
			return false, nil
		}
	}
	return true, nil
}

// drop forgets resources of a named type no longer subscribed to.
func (s *state) drop(typeURL string, names []string) {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	for n := range s.resources[typeURL] {
		if !keep[n] {
			delete(s.resources[typeURL], n)
			delete(s.resVers[typeURL], n)
		}
	}
}

func (s *state) put(typeURL, name, version string, m proto.Message) {
	if s.resources[typeURL] == nil {
		s.resources[typeURL] = map[string]proto.Message{}
		s.resVers[typeURL] = map[string]string{}
	}
	s.resources[typeURL][name] = m
	if version != "" {
		s.resVers[typeURL][name] = version
	}
}

func (s *state) remove(typeURL, name string) {
	delete(s.resources[typeURL], name)
	delete(s.resVers[typeURL], name)
}

// diff returns the names added to and removed from a subscription.
func diff(old, new []string) (added, removed []string) {
	for _, n := range new {
		if !slices.Contains(old, n) {
			added = append(added, n)
		}
	}
	for _, n := range old {
		if !slices.Contains(new, n) {
			removed = append(removed, n)
		}
	}
	return added, removed
}
