package irbuild

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// cluster registers the cluster of destination d, referenced from vs at
// path, and returns its name; ok is false when it could not be built.
func (b *builder) cluster(vs *model.VirtualService, path string, d model.Destination) (string, bool) {
	obj := &vs.Object
	if d.Host == "" {
		b.errorf(obj, path+".host", "a destination host is required")
		return "", false
	}
	se := b.serviceEntry(d.Host)
	port, ok := destinationPort(d, se)
	if !ok {
		b.errorf(obj, path+".port.number", "destination.port.number is required: host %q has no ServiceEntry with exactly one port", d.Host)
		return "", false
	}
	dr := b.destinationRule(d.Host, vs.Metadata.Namespace)
	subset, subsetPath := findSubset(dr, d.Subset)
	if d.Subset != "" && subset == nil {
		b.errorf(obj, path+".subset", "subset %q of host %q is not defined by any DestinationRule", d.Subset, d.Host)
		return "", false
	}
	be := backend{obj: obj, path: path, host: d.Host, port: port, se: se, subset: subset}
	c := &ir.Cluster{Name: ir.ClusterName(d.Host, port, d.Subset), ConnectTimeout: defaultConnectTimeout}
	if !b.endpoints(c, be) {
		return "", false
	}
	c.HTTP2 = http2Port(se, port)
	policy := policyFor(dr, port, subset, subsetPath)
	b.warnPortLevel(policy, d.Host, port)
	b.applyPolicy(c, policy)
	if dr != nil {
		c.TLS = b.upstreamTLS(policy, d.Host, port, c.HTTP2)
	}
	name := b.addCluster(c, obj, path)
	b.destPolicy[name] = destinationPolicy(policy)
	return name, true
}

// backend is a destination resolved for its cluster: where it is
// referenced, its host and port, and what lists its endpoints.
type backend struct {
	obj    *model.Object // the referencing object, for messages
	path   string        // the destination's field path in obj
	host   string
	port   uint32
	se     *model.ServiceEntry // nil: no ServiceEntry lists the host
	subset *model.Subset       // nil: no subset named
}

// addCluster registers c once. Cluster names carry no namespace, so two
// references that resolve a host differently (DestinationRules preferred by
// namespace) are a conflict.
func (b *builder) addCluster(c *ir.Cluster, obj *model.Object, path string) string {
	if b.rec != nil { // a fork: the merge registers it (build_parallel.go)
		b.rec.clusters = append(b.rec.clusters, clusterEntry{cluster: c, obj: obj, path: path})
		return c.Name
	}
	prev, ok := b.clusters[c.Name]
	if !ok {
		b.clusters[c.Name] = &clusterEntry{cluster: c, obj: obj, path: path}
		return c.Name
	}
	if !reflect.DeepEqual(prev.cluster, c) {
		b.errorf(obj, path, "cluster %s resolves differently here than for %s (a DestinationRule in this namespace?)", c.Name, prev.origin())
	}
	return c.Name
}

// destinationPort is the destination's port number, or the only port of
// its ServiceEntry.
func destinationPort(d model.Destination, se *model.ServiceEntry) (uint32, bool) {
	if d.Port != nil && d.Port.Number != 0 {
		return d.Port.Number, true
	}
	if se != nil && len(se.Spec.Ports) == 1 {
		return se.Spec.Ports[0].Number, true
	}
	return 0, false
}

// servicePort is the ServiceEntry port numbered port.
func servicePort(se *model.ServiceEntry, port uint32) *model.ServicePort {
	if se == nil {
		return nil
	}
	for i := range se.Spec.Ports {
		if se.Spec.Ports[i].Number == port {
			return &se.Spec.Ports[i]
		}
	}
	return nil
}

// http2Port reports whether the ServiceEntry declares port as HTTP2 or gRPC.
func http2Port(se *model.ServiceEntry, port uint32) bool {
	if p := servicePort(se, port); p != nil {
		switch strings.ToUpper(p.Protocol) {
		case "HTTP2", "GRPC":
			return true
		}
	}
	return false
}

// endpoints fills c's kind and endpoints: a ServiceEntry's endpoints (EDS,
// or STRICT_DNS when they are DNS names), else the host itself (STATIC for
// an IP literal such as a local app behind a sidecar, STRICT_DNS otherwise).
func (b *builder) endpoints(c *ir.Cluster, be backend) bool {
	obj, path, host, port, se := be.obj, be.path, be.host, be.port, be.se
	if se != nil && len(se.Spec.Endpoints) > 0 {
		return b.serviceEntryEndpoints(c, be)
	}
	if se != nil && strings.EqualFold(se.Spec.Resolution, "STATIC") {
		b.errorf(&se.Object, "spec.endpoints", "resolution STATIC needs endpoints (host %q)", host)
		return false
	}
	if strings.HasPrefix(host, "*") {
		b.errorf(obj, path+".host", "wildcard host %q cannot be resolved; add a ServiceEntry with endpoints", host)
		return false
	}
	c.Kind = ir.ClusterStrictDNS
	if isIP(host) {
		c.Kind = ir.ClusterStatic
	}
	c.Endpoints = []ir.Endpoint{{Address: host, Port: port}}
	return true
}

// serviceEntryEndpoints fills c from a ServiceEntry's endpoints, filtered
// by the subset's labels. The endpoint port is the endpoint's own port of
// that name, else the service port's targetPort, else the port itself.
func (b *builder) serviceEntryEndpoints(c *ir.Cluster, be backend) bool {
	obj, path, port, se, subset := be.obj, be.path, be.port, be.se, be.subset
	sp := servicePort(se, port)
	if sp == nil {
		b.errorf(obj, path+".port.number", "%s%s has no port %d", se.Ref(), se.Pos.At(""), port)
		return false
	}
	dns := strings.EqualFold(se.Spec.Resolution, "DNS")
	for i, ep := range se.Spec.Endpoints {
		if subset != nil && !labelset.Selects(subset.Labels, ep.Labels) {
			continue
		}
		if !dns && !isIP(ep.Address) {
			b.errorf(&se.Object, fmt.Sprintf("spec.endpoints[%d].address", i), "%q is not an IP address; use resolution DNS for names", ep.Address)
			return false
		}
		epPort := port
		if p, ok := ep.Ports[sp.Name]; ok && sp.Name != "" {
			epPort = p
		} else if sp.TargetPort != 0 {
			epPort = sp.TargetPort
		}
		c.Endpoints = append(c.Endpoints, ir.Endpoint{Address: ep.Address, Port: epPort, Weight: ep.Weight})
	}
	slices.SortFunc(c.Endpoints, func(a, b ir.Endpoint) int {
		return cmp.Or(strings.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
	c.Kind = ir.ClusterEDS
	if dns {
		// Envoy's EDS takes IP addresses only; DNS endpoints are resolved
		// by a STRICT_DNS cluster instead.
		c.Kind = ir.ClusterStrictDNS
	}
	if len(c.Endpoints) == 0 {
		b.warnf(obj, path, "cluster %s has no endpoints (subset labels match none of %s): requests get 503", c.Name, se.Ref())
	}
	return true
}
