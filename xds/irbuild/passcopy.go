package irbuild

import (
	"slices"

	"github.com/trustgate/trustgate/xds/ir"
)

// A server's record in the memo (memo.go) is shared by every build that
// takes it, and the passes that run once every chain is built change
// chains in place: ClientCertificatePolicies (the chain's TLS and
// connection settings, XFCC, rejection routes, identity headers),
// AuthorizationPolicies (the chain's RBAC), confinement of hosts (the
// virtual hosts' domains, the 421 virtual host), the client CA secret and
// CORS (finishChains), identity headers stripped (virtual hosts', routes'
// and weighted destinations' header changes) and access logs. So a build
// takes a copy of each level they change (passCopy), and shares the rest:
// what lies below (matches, retries, clusters, certificates) no pass
// changes. A slice that a pass appends to is clipped, so that the append
// makes a new array. TestBuildGolden and compile's TestIncrementalEqualsCold
// check, after each build with a memo, that every record is still what
// building its server gives (MemoPristine): a pass that changes a level
// not copied here fails them.

// passCopy is ci's copy for the passes of one build; re maps the record's
// virtual hosts and routes to the copy's, for the writes keyed by them.
func (ci *chainInfo) passCopy(re *remap) *chainInfo {
	c := *ci
	if ci.chain != nil {
		c.chain = copyChain(ci.chain)
	}
	if ci.rc != nil {
		c.rc = copyRouteConfig(ci.rc, re)
	}
	return &c
}

// copyChain copies a chain and its TLS, HTTP and TCP settings.
func copyChain(ch *ir.Chain) *ir.Chain {
	c := *ch
	c.ServerNames = slices.Clip(c.ServerNames)
	if ch.TLS != nil {
		t := *ch.TLS
		t.SubjectAltNames, t.SPKI, t.CertHashes = slices.Clip(t.SubjectAltNames), slices.Clip(t.SPKI), slices.Clip(t.CertHashes)
		c.TLS = &t
	}
	if ch.HTTP != nil {
		h := *ch.HTTP
		c.HTTP = &h
	}
	if ch.TCP != nil {
		t := *ch.TCP
		c.TCP = &t
	}
	return &c
}

// copyRouteConfig copies a route configuration, its virtual hosts (their
// domains and route lists), its routes and their forwards (the weighted
// destinations).
func copyRouteConfig(rc *ir.RouteConfig, re *remap) *ir.RouteConfig {
	c := *rc
	c.VirtualHosts = make([]*ir.VirtualHost, len(rc.VirtualHosts))
	for i, vh := range rc.VirtualHosts {
		v := *vh
		v.Domains = slices.Clone(vh.Domains) // confineHosts deletes in place
		v.Routes = make([]*ir.Route, len(vh.Routes))
		for j, r := range vh.Routes {
			nr := *r
			if r.Forward != nil {
				f := *r.Forward
				f.Destinations = slices.Clone(f.Destinations)
				nr.Forward = &f
			}
			v.Routes[j] = &nr
			re.routes = append(re.routes, [2]*ir.Route{r, &nr})
		}
		c.VirtualHosts[i] = &v
		re.vhosts = append(re.vhosts, [2]*ir.VirtualHost{vh, &v})
	}
	return &c
}

// remap pairs a record's virtual hosts and routes with their copies.
type remap struct {
	vhosts [][2]*ir.VirtualHost
	routes [][2]*ir.Route
}

// vhost is vh's copy (vh when it has none).
func (re *remap) vhost(vh *ir.VirtualHost) *ir.VirtualHost {
	for _, p := range re.vhosts {
		if p[0] == vh {
			return p[1]
		}
	}
	return vh
}

// route is r's copy (r when it has none).
func (re *remap) route(r *ir.Route) *ir.Route {
	for _, p := range re.routes {
		if p[0] == r {
			return p[1]
		}
	}
	return r
}
