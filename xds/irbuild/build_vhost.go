package irbuild

import (
	"reflect"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// contribution is what one VirtualService contributes, through one server,
// to the virtual host of one domain.
type contribution struct {
	vs     *model.VirtualService
	server *serverRef
	routes []*ir.Route
	// host is the VirtualService's own host that yields the domain (the
	// most specific one when several do), and rank its specificity.
	host string
	rank int
	// shape identifies the route list among the VirtualService's others:
	// equal shapes are equal routes (the same VirtualService reached
	// through two servers of one port).
	shape int
}

// domainVHost collects the contributions to one domain of a route
// configuration.
type domainVHost struct {
	domain     string
	contribs   []*contribution
	requireTLS bool
}

// routeConfig builds the route configuration named name from the
// VirtualServices bound to servers, with Istio's gateway semantics
// (buildGatewayHTTPRouteConfig in istio/istio pilot/pkg/networking/core/
// gateway.go): each domain (a VirtualService host intersected with a server
// host) gets one virtual host, and the routes of every VirtualService that
// yields that domain are merged into it, in Istio's order (istioOrder),
// catch-all routes last. Where a domain comes from VirtualService hosts of
// different specificity, only the most specific ones contribute (see
// mostSpecific): a VirtualService for "api.example.com" owns that host next
// to a "*" VirtualService, whichever is older.
func (b *builder) routeConfig(name string, servers []*serverRef) *ir.RouteConfig {
	byDomain := map[string]*domainVHost{}
	var order []*domainVHost
	shapes := map[*model.VirtualService][][]*ir.Route{}
	for _, s := range servers {
		for _, vs := range b.boundVirtualServices(s, false) {
			routes := b.httpRoutes(vs, s)
			if len(routes) == 0 {
				continue
			}
			shape := routeShape(shapes, vs, routes)
			for _, dh := range vsDomainHosts(vs, s) {
				d := byDomain[dh.domain]
				if d == nil {
					d = &domainVHost{domain: dh.domain}
					byDomain[dh.domain] = d
					order = append(order, d)
				}
				d.contribs = append(d.contribs, &contribution{vs: vs, server: s, routes: routes, host: dh.host, rank: hostRank(dh.host), shape: shape})
				if s.kind == kindHTTP && s.srv.TLS != nil && s.srv.TLS.HTTPSRedirect {
					d.requireTLS = true // Istio: any redirecting server of the host redirects it
				}
			}
		}
	}
	for _, d := range order {
		d.contribs = b.mostSpecific(d)
		d.contribs = dedupeContributions(d.contribs)
	}
	return &ir.RouteConfig{Name: name, VirtualHosts: b.vhosts(order)}
}

// routeShape numbers a VirtualService's distinct route lists.
func routeShape(shapes map[*model.VirtualService][][]*ir.Route, vs *model.VirtualService, routes []*ir.Route) int {
	for i, r := range shapes[vs] {
		if reflect.DeepEqual(r, routes) {
			return i
		}
	}
	shapes[vs] = append(shapes[vs], routes)
	return len(shapes[vs]) - 1
}

// dedupeContributions keeps one contribution per VirtualService and route
// list: the same VirtualService reached through two servers of one port
// adds its routes once.
func dedupeContributions(cs []*contribution) []*contribution {
	var out []*contribution
	for _, c := range cs {
		if !slices.ContainsFunc(out, func(o *contribution) bool { return o.vs == c.vs && o.shape == c.shape }) {
			out = append(out, c)
		}
	}
	return out
}

// vhostGroup is the virtual host of the domains whose contributions and
// redirect agree (Istio's collapseDuplicateRoutes).
type vhostGroup struct {
	key      string
	domains  []string
	contribs []*contribution
	tls      bool
}

// vhosts groups the domains by contributions, merges each group's routes
// and names the virtual hosts "<vs-ns>/<vs-name>" (joined with "+" when
// several VirtualServices merge), suffixed with the first domain when one
// name would be used twice, sorted by name.
func (b *builder) vhosts(domains []*domainVHost) []*ir.VirtualHost {
	byKey := map[string]*vhostGroup{}
	var groups []*vhostGroup
	for _, d := range domains {
		k := groupKey(d)
		g := byKey[k]
		if g == nil {
			g = &vhostGroup{key: k, contribs: d.contribs, tls: d.requireTLS}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.domains = append(g.domains, d.domain)
	}
	count := map[string]int{}
	for _, g := range groups {
		count[groupName(g)]++
	}
	used := map[*contribution]bool{}
	var out []*ir.VirtualHost
	for _, g := range groups {
		g.domains = sortedUnique(g.domains)
		name := groupName(g)
		if count[name] > 1 {
			name += "/" + g.domains[0]
		}
		vh := &ir.VirtualHost{Name: name, Domains: g.domains, RequireTLS: g.tls, Routes: b.mergedRoutes(g, used)}
		for _, c := range g.contribs {
			b.vhostServers[vh] = append(b.vhostServers[vh], c.server)
		}
		out = append(out, vh)
	}
	slices.SortFunc(out, byVHostName)
	return out
}

// groupKey identifies a domain's contributions and redirect.
func groupKey(d *domainVHost) string {
	var b strings.Builder
	if d.requireTLS {
		b.WriteString("tls;")
	}
	for _, c := range d.contribs {
		b.WriteString(c.vs.Metadata.Namespace + "/" + c.vs.Metadata.Name + "#" + itoa(c.shape) + ";")
	}
	return b.String()
}

// groupName is "<ns>/<name>" of each contributing VirtualService, joined
// with "+".
func groupName(g *vhostGroup) string {
	var names []string
	for _, c := range g.contribs {
		n := c.vs.Metadata.Namespace + "/" + c.vs.Metadata.Name
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, "+")
}

// mergedRoutes are the group's routes: each contribution's in order, then
// Istio's SortVHostRoutes (istio/istio pilot/pkg/networking/core/route/
// route.go), which moves every catch-all route to the end, keeping the
// order of the others. Every virtual host gets routes of its own, since
// later passes change routes per virtual host: a contribution's routes are
// built again when a second virtual host uses them.
func (b *builder) mergedRoutes(g *vhostGroup, used map[*contribution]bool) []*ir.Route {
	var routes, catchAll []*ir.Route
	for _, c := range g.contribs {
		rs := c.routes
		if used[c] {
			rs = b.httpRoutes(c.vs, c.server)
		}
		used[c] = true
		for _, r := range rs {
			if isCatchAll(r) {
				catchAll = append(catchAll, r)
			} else {
				routes = append(routes, r)
			}
		}
	}
	b.warnShadowed(g, routes, catchAll)
	return append(routes, catchAll...)
}

// isCatchAll reports whether a route matches every request: path prefix "/"
// (or no path) or regex ".*", and no other condition (Istio's
// IsCatchAllRoute).
func isCatchAll(r *ir.Route) bool {
	m := r.Match
	path := m.PathExact == "" && (m.PathPrefix == "" || m.PathPrefix == "/") && (m.PathRegex == "" || m.PathRegex == ".*")
	if m.PathRegex != "" && m.PathPrefix != "" {
		path = false
	}
	return path && len(m.Headers) == 0 && len(m.QueryParams) == 0 && m.CertPresented == nil
}

// byVHostName orders virtual hosts by name. slices.SortFunc replaced
// sort.Slice in the per-chain sorts (sort.Slice allocates a reflective
// swapper and a closure, for each of 10,000 route configurations). The
// order is the same even between equal names: both are the same pdqsort,
// generated from one template (Go's sort/gen_sort_variants.go: zsortfunc.go
// and slices' zsortanyfunc.go), so they compare and swap alike;
// TestSortFuncAsSortSlice checks it.
func byVHostName(a, b *ir.VirtualHost) int { return strings.Compare(a.Name, b.Name) }
