package irbuild

import (
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// tcpDestinations are the destinations of the tcp route that serves s (a
// TCP server, or a TLS server that terminates): the first matching tcp entry
// of the first bound VirtualService that has one, in Istio's order
// (buildGatewayNetworkFiltersFromTCPRoutes in istio/istio pilot/pkg/
// networking/core/gateway.go returns the first). Another VirtualService with
// a matching tcp entry is ignored, as in Istio, with a warning. nil when
// there is none.
func (b *builder) tcpDestinations(s *serverRef) []ir.WeightedCluster {
	var found *model.VirtualService
	var dests []ir.WeightedCluster
	for _, vs := range b.boundVirtualServices(s, true) {
		for i := range vs.Spec.TCP {
			t := &vs.Spec.TCP[i]
			if !l4Applies(t.Match, vs, s) {
				continue
			}
			path := fmt.Sprintf("spec.tcp[%d]", i)
			if found != nil {
				b.warnf(&vs.Object, path, "ignored for %s %s: it is served by the tcp route of %s%s, which Istio picks first (%s)", s.gw.Ref(), s.path, found.Ref(), found.Pos.At(""), model.OrderNote)
				break
			}
			found = vs
			dests = b.l4Destinations(vs, path, t.Route)
			break
		}
	}
	if found == nil {
		b.warnf(&s.gw.Object, s.path, "no VirtualService tcp route serves this server; it gets no filter chain")
	}
	return dests
}

// l4Applies reports whether some match (or none at all) applies to s.
func l4Applies(matches []model.L4MatchAttributes, vs *model.VirtualService, s *serverRef) bool {
	if len(matches) == 0 {
		return true
	}
	for _, m := range matches {
		if matchFilter(m.Gateways, m.Port, vs, s) {
			return true
		}
	}
	return false
}

// l4Destinations converts the weighted destinations of a tcp or tls route,
// with the same weight rules as HTTP.
func (b *builder) l4Destinations(vs *model.VirtualService, path string, routes []model.RouteDestination) []ir.WeightedCluster {
	var out []ir.WeightedCluster
	for k, d := range routes {
		if len(routes) > 1 && d.Weight == 0 {
			continue
		}
		name, ok := b.cluster(vs, fmt.Sprintf("%s.route[%d].destination", path, k), d.Destination)
		if !ok {
			continue
		}
		w := uint32(100)
		if len(routes) > 1 {
			w = uint32(d.Weight)
		}
		out = append(out, ir.WeightedCluster{Cluster: name, Weight: w})
	}
	if len(out) == 0 && len(routes) > 1 {
		b.errorf(&vs.Object, path+".route", "every destination has weight 0")
	}
	if len(routes) == 0 {
		b.errorf(&vs.Object, path+".route", "at least one destination is required")
	}
	return out
}

// passthroughChains builds one chain per VirtualService tls route serving
// passthrough server s: it matches the route's SNI hosts that s admits and
// forwards the TLS stream untouched.
func (b *builder) passthroughChains(g *portGroup, s *serverRef) []*chainInfo {
	var out []*chainInfo
	for _, vs := range b.boundVirtualServices(s, false) {
		for i := range vs.Spec.TLS {
			snis := passthroughSNIs(&vs.Spec.TLS[i], vs, s)
			if len(snis) == 0 {
				continue
			}
			dests := b.l4Destinations(vs, fmt.Sprintf("spec.tls[%d]", i), vs.Spec.TLS[i].Route)
			if len(dests) == 0 {
				continue
			}
			name := ir.ChainName(g.port, s.key+"/"+strings.Join(snis, ","))
			names := snis
			if snis[0] == "*" {
				names = nil // catch-all: Envoy accepts no bare "*"
			}
			out = append(out, &chainInfo{
				chain: &ir.Chain{
					Name: name, ServerNames: names, TransportProtocol: "tls",
					TCP: b.tcpChainOf(name, dests),
				},
				servers: []*serverRef{s},
				vs:      vs, vsPath: fmt.Sprintf("spec.tls[%d]", i),
			})
		}
	}
	if len(out) == 0 {
		b.warnf(&s.gw.Object, s.path, "no VirtualService tls route serves this passthrough server; it gets no filter chain")
	}
	return out
}

// passthroughSNIs are the SNI hosts of a tls route that server s admits
// (each the more specific of the SNI host and the server host), sorted.
func passthroughSNIs(t *model.TLSRoute, vs *model.VirtualService, s *serverRef) []string {
	var out []string
	for _, m := range t.Match {
		if !matchFilter(m.Gateways, m.Port, vs, s) {
			continue
		}
		for _, sni := range m.SNIHosts {
			for _, sh := range s.hosts {
				if !admitsNamespace(sh, vs.Metadata.Namespace, s.gw.Metadata.Namespace) {
					continue
				}
				if d, ok := intersectHost(sh.host, strings.ToLower(sni)); ok {
					out = append(out, d)
				}
			}
		}
	}
	return sortedUnique(out)
}
