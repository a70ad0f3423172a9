package irbuild

import (
	"github.com/trustgate/trustgate/xds/ir"
	"slices"
	"strings"
)

// Identity headers are filled from the client certificate where a route
// configuration says so, and a client's own copy is removed there. A
// backend that trusts them can also be reached in other ways: the same
// VirtualService bound to a plaintext server, a SIMPLE server of another
// port, another VirtualService routing to the same backend, a sibling route
// or weighted destination of the same virtual host, or any other host of
// the proxy whose backend reads the header too. stripIdentityHeaders closes
// all of them the one way that needs no reasoning about reachability: each
// such header is removed everywhere on the proxy it is forwarded.

// stripIdentityHeaders makes every virtual host of every route
// configuration of this proxy that forwards to a backend remove a client's
// copy of each identity header configured or derived anywhere on the proxy
// (issue 12's P2: no client-sent value of such a header reaches any
// backend), except where the gateway itself sets it (see stripHeader).
func stripIdentityHeaders(chains []*chainInfo) {
	var names []string
	for _, ci := range chains {
		if ci.rc == nil {
			continue
		}
		for _, vh := range ci.rc.VirtualHosts {
			names = append(names, identityNames(vh)...)
		}
	}
	names = sortedUnique(names)
	for _, ci := range chains {
		if ci.rc == nil {
			continue
		}
		for _, vh := range ci.rc.VirtualHosts {
			for _, n := range names {
				stripHeader(vh, n)
			}
		}
	}
}

// identityNames are the request headers vh fills from the client
// certificate, at the virtual host, a route or a weighted destination, and
// ingress-nginx's ssl-client-verify.
func identityNames(vh *ir.VirtualHost) []string {
	var out []string
	for _, h := range requestHeaders(vh) {
		if strings.Contains(h.Value, peerFormatterPrefix) || h.Name == sslClientVerify {
			out = append(out, h.Name)
		}
	}
	return sortedUnique(out)
}

// stripHeader removes the client's copy of name on every way vh forwards,
// without removing a value the gateway itself sets. Envoy evaluates request
// header changes from the weighted destination to the route to the virtual
// host (RouteEntryImplBase::finalizeRequestHeaders, WeightedClusterEntry,
// most_specific_header_mutations_wins unset), removes before adds within a
// level (HeaderParser::evaluateHeaders): a removal must sit at the level
// that sets the header or an earlier one. So it goes on the virtual host
// when no route or destination sets the header, otherwise on each route
// that does not, or on each destination that does not.
func stripHeader(vh *ir.VirtualHost, name string) {
	if !forwardsAny(vh) || slices.Contains(vh.Headers.Request.Remove, name) {
		return
	}
	if !slices.ContainsFunc(vh.Routes, func(r *ir.Route) bool { return routeTouches(r, name) }) {
		vh.Headers.Request = withRemove(vh.Headers.Request, name)
		return
	}
	for _, r := range vh.Routes {
		if r.Forward == nil || slices.Contains(r.Headers.Request.Remove, name) {
			continue
		}
		ds := r.Forward.Destinations
		if !slices.ContainsFunc(ds, func(d ir.WeightedCluster) bool { return sets(d.Headers.Request, name) }) {
			r.Headers.Request = withRemove(r.Headers.Request, name)
			continue
		}
		for i := range ds {
			if !slices.Contains(ds[i].Headers.Request.Remove, name) {
				ds[i].Headers.Request = withRemove(ds[i].Headers.Request, name)
			}
		}
	}
}

// routeTouches reports whether r or one of its destinations sets or adds
// name.
func routeTouches(r *ir.Route, name string) bool {
	if sets(r.Headers.Request, name) {
		return true
	}
	return r.Forward != nil && slices.ContainsFunc(r.Forward.Destinations, func(d ir.WeightedCluster) bool { return sets(d.Headers.Request, name) })
}

// sets reports whether op sets or adds name.
func sets(op ir.HeaderOp, name string) bool {
	named := func(h ir.Header) bool { return h.Name == name }
	return slices.ContainsFunc(op.Set, named) || slices.ContainsFunc(op.Add, named)
}

// withRemove is op also removing name.
func withRemove(op ir.HeaderOp, name string) ir.HeaderOp {
	return mergeHeaderOp(op, ir.HeaderOp{Remove: []string{name}})
}
