package irbuild

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// istioOrder returns the VirtualServices sorted as Istio sorts them before
// building a gateway's routes (sortConfigByCreationTime): creation time,
// then name, then namespace; see model.CompareCreation for files.
func istioOrder(vss []*model.VirtualService) []*model.VirtualService {
	type keyed struct {
		vs *model.VirtualService
		t  time.Time
	}
	ks := make([]keyed, len(vss))
	for i, vs := range vss {
		ks[i] = keyed{vs, vs.CreationTime()}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return model.CompareCreation(&a.vs.Object, &b.vs.Object)
	})
	out := make([]*model.VirtualService, len(ks))
	for i, k := range ks {
		out[i] = k.vs
	}
	return out
}

// domainHost is a domain of a route configuration and the VirtualService
// host that yields it.
type domainHost struct {
	domain, host string
}

// vsDomainHosts are the domains vs yields through server s (vsDomains),
// each with the most specific of the VirtualService's hosts that yields it,
// sorted by domain.
func vsDomainHosts(vs *model.VirtualService, s *serverRef) []domainHost {
	best := map[string]string{}
	// The order of eachDomain does not matter: two hosts yielding one
	// domain with equal rank are equal (an exact host yields itself; two
	// wildcards of one length covering one host are the same suffix).
	eachDomain(vs, s, func(d, h string) {
		if prev, seen := best[d]; !seen || hostRank(h) > hostRank(prev) {
			best[d] = h
		}
	})
	out := make([]domainHost, 0, len(best))
	for _, d := range sortedUnique(mapKeys(best)) {
		out = append(out, domainHost{domain: d, host: best[d]})
	}
	return out
}

// mapKeys lists a map's keys (unsorted).
func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// hostRank orders hosts by specificity as Envoy picks virtual hosts
// (RouteMatcher::findVirtualHost, source/common/router/config_impl.cc): an
// exact name first, then the longest "*.suffix", then "*".
func hostRank(h string) int {
	switch {
	case h == "*":
		return 0
	case strings.HasPrefix(h, "*."):
		return len(h)
	}
	return 1 << 20
}

// mostSpecific keeps the contributions to d whose VirtualService host is
// the most specific one yielding d. Istio merges them all: with server hosts
// [a.example.com, b.example.com], a "*" VirtualService and an
// "a.example.com" one both yield a.example.com, and Istio puts the routes of
// the older first, so a "*" VirtualService with a catch-all route would take
// every request of a.example.com from the VirtualService written for it.
// trustgate gives the host to its specific VirtualService, as it does
// anyway where the server host is "*" or a wildcard (there the two yield
// different domains and Envoy prefers the exact one), and says so.
func (b *builder) mostSpecific(d *domainVHost) []*contribution {
	top := 0
	for _, c := range d.contribs {
		top = max(top, c.rank)
	}
	var kept, dropped []*contribution
	for _, c := range d.contribs {
		if c.rank == top {
			kept = append(kept, c)
		} else {
			dropped = append(dropped, c)
		}
	}
	for _, c := range dropped {
		if slices.ContainsFunc(kept, func(k *contribution) bool { return k.vs == c.vs }) {
			continue // its more specific host already brings its routes
		}
		k := kept[0]
		b.warnf(&c.vs.Object, hostPath(c.vs, c.host),
			"host %q is routed by %s%s alone, whose host %q is more specific than %q; Istio would merge this VirtualService's routes into it too, the older VirtualService's first (%s)",
			d.domain, k.vs.Ref(), k.vs.Pos.At(""), k.host, c.host, model.OrderNote)
	}
	return kept
}

// hostPath is the field path of host h in vs's hosts.
func hostPath(vs *model.VirtualService, h string) string {
	for i, vh := range vs.Spec.Hosts {
		if strings.EqualFold(vh, h) {
			return fmt.Sprintf("spec.hosts[%d]", i)
		}
	}
	return "spec.hosts"
}

// warnShadowed reports routes of one VirtualService that a route of an
// earlier one, merged into the same virtual host, makes unreachable: an
// identical match, or a second catch-all. Istio merges them silently; Envoy
// takes the first match.
func (b *builder) warnShadowed(g *vhostGroup, routes, catchAll []*ir.Route) {
	if len(g.contribs) < 2 {
		return
	}
	first := map[string]*ir.Route{}
	for _, r := range routes {
		k := fmt.Sprintf("%+v", r.Match)
		if prev, ok := first[k]; ok {
			b.warnRouteShadowed(g, r, prev, "has the same match as")
			continue
		}
		first[k] = r
	}
	for _, r := range catchAll[min(1, len(catchAll)):] {
		b.warnRouteShadowed(g, r, catchAll[0], "is a catch-all after the catch-all")
	}
}

// warnRouteShadowed warns that r is never reached because of prev, when
// the two come from different VirtualServices.
func (b *builder) warnRouteShadowed(g *vhostGroup, r, prev *ir.Route, why string) {
	ro, po := b.routeOrigin[r], b.routeOrigin[prev]
	if ro.vs == nil || po.vs == nil || ro.vs == po.vs {
		return
	}
	b.warnf(&ro.vs.Object, ro.path, "route %s is never used for %s: it %s route %s of %s%s, which Istio merges first (%s)",
		r.Name, strings.Join(g.domains, ", "), why, prev.Name, po.vs.Ref(), po.vs.Pos.At(po.path), model.OrderNote)
}

// routeFrom is where a route was written.
type routeFrom struct {
	vs   *model.VirtualService
	path string // "spec.http[i].match[j]" or "spec.http[i]"
}
