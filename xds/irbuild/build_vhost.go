package irbuild

import (
	"fmt"
	"reflect"
	"sort"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// vhostCandidate is what one VirtualService contributes to a route
// configuration through one server.
type vhostCandidate struct {
	vs         *model.VirtualService
	domains    []string
	routes     []*ir.Route
	requireTLS bool
	servers    []*serverRef // the servers it comes through
}

// routeConfig builds the route configuration named name from the
// VirtualServices bound to servers. Two VirtualServices claiming the same
// domain are an error rather than merged as Istio does: Envoy rejects
// duplicate domains, and a merge in load order would let one file's
// catch-all route silently shadow another's.
func (b *builder) routeConfig(name string, servers []*serverRef) *ir.RouteConfig {
	var cands []*vhostCandidate
	for _, s := range servers {
		for _, vs := range b.boundVirtualServices(s, false) {
			routes := b.httpRoutes(vs, s)
			if len(routes) == 0 {
				continue
			}
			cands = mergeCandidate(cands, &vhostCandidate{
				vs: vs, domains: vsDomains(vs, s), routes: routes,
				requireTLS: s.kind == kindHTTP && s.srv.TLS != nil && s.srv.TLS.HTTPSRedirect,
				servers:    []*serverRef{s},
			})
		}
	}
	cands = b.dropDuplicateDomains(name, cands)
	return &ir.RouteConfig{Name: name, VirtualHosts: b.vhosts(cands)}
}

// mergeCandidate adds c, folding it into an earlier candidate of the same
// VirtualService with identical routes (the VirtualService reached through
// two servers of one port).
func mergeCandidate(cands []*vhostCandidate, c *vhostCandidate) []*vhostCandidate {
	for _, o := range cands {
		if o.vs == c.vs && o.requireTLS == c.requireTLS && reflect.DeepEqual(o.routes, c.routes) {
			o.domains = sortedUnique(append(o.domains, c.domains...))
			o.servers = append(o.servers, c.servers...)
			return cands
		}
	}
	return append(cands, c)
}

// dropDuplicateDomains reports every domain claimed twice in one route
// configuration and keeps it only in its first candidate.
func (b *builder) dropDuplicateDomains(rcName string, cands []*vhostCandidate) []*vhostCandidate {
	owner := map[string]*vhostCandidate{}
	var out []*vhostCandidate
	for _, c := range cands {
		var kept []string
		for _, d := range c.domains {
			prev, dup := owner[d]
			if !dup {
				owner[d] = c
				kept = append(kept, d)
				continue
			}
			what := "the same VirtualService with different routes (match.gateways or match.port differ between servers)"
			if prev.vs != c.vs {
				what = fmt.Sprintf("%s (%s:%d); merge them into one VirtualService", prev.vs.Ref(), prev.vs.Pos.File, prev.vs.Pos.Line)
			}
			b.errorf(&c.vs.Object, "spec.hosts", "host %q in route configuration %s is also claimed by %s: Envoy rejects duplicate domains", d, rcName, what)
		}
		if len(kept) > 0 {
			c.domains = kept
			out = append(out, c)
		}
	}
	return out
}

// vhosts names the candidates "<vs-ns>/<vs-name>", suffixed with the first
// domain when one VirtualService yields several virtual hosts, and sorts
// them by name. It remembers the servers behind each, for messages.
func (b *builder) vhosts(cands []*vhostCandidate) []*ir.VirtualHost {
	count := map[*model.VirtualService]int{}
	for _, c := range cands {
		count[c.vs]++
	}
	var out []*ir.VirtualHost
	for _, c := range cands {
		name := c.vs.Metadata.Namespace + "/" + c.vs.Metadata.Name
		if count[c.vs] > 1 {
			name += "/" + c.domains[0]
		}
		vh := &ir.VirtualHost{Name: name, Domains: c.domains, RequireTLS: c.requireTLS, Routes: c.routes}
		b.vhostServers[vh] = c.servers
		out = append(out, vh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
