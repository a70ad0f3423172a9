package irbuild

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/model"
)

// gatewayRef resolves a VirtualService gateway reference as model.Validate
// does: "name" (in the VirtualService's namespace), "ns/name", or the FQDN
// form "name.ns.svc.cluster.local" (which SAP Kyma writes). ok is false for
// "mesh", which is not a Gateway.
func gatewayRef(ref, defaultNS string) (ns, name string, ok bool) {
	if ref == "mesh" || ref == "" {
		return "", "", false
	}
	if ns, name, found := strings.Cut(ref, "/"); found {
		return ns, name, true
	}
	if name, rest, found := strings.Cut(ref, "."); found {
		ns, _, _ = strings.Cut(rest, ".")
		return ns, name, true
	}
	return defaultNS, ref, true
}

// refsGateway reports whether one of refs names gw.
func refsGateway(refs []string, defaultNS string, gw *model.Gateway) bool {
	for _, r := range refs {
		ns, name, ok := gatewayRef(r, defaultNS)
		if ok && ns == gw.Metadata.Namespace && name == gw.Metadata.Name {
			return true
		}
	}
	return false
}

// matchFilter reports whether a route's match (its gateways and port, both
// optional) applies to server s.
func matchFilter(gateways []string, port uint32, vs *model.VirtualService, s *serverRef) bool {
	if len(gateways) > 0 && !refsGateway(gateways, vs.Metadata.Namespace, s.gw) {
		return false
	}
	return port == 0 || port == s.srv.Port.Number
}

// hostCovers reports whether pattern admits host: "*" admits everything,
// "*.a.com" admits "x.a.com" and "*.x.a.com" (and itself), anything else
// admits only itself.
func hostCovers(pattern, host string) bool {
	switch {
	case pattern == "*" || pattern == host:
		return true
	case strings.HasPrefix(pattern, "*."):
		suffix := pattern[1:]
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return false
}

// intersectHost is the more specific of a server host and a VirtualService
// host when one admits the other: server "*.a.com" and VS "x.a.com" give
// "x.a.com"; VS "*" under server "x.a.com" gives "x.a.com".
func intersectHost(server, vs string) (string, bool) {
	switch {
	case hostCovers(server, vs):
		return vs, true
	case hostCovers(vs, server):
		return server, true
	}
	return "", false
}

// admitsNamespace reports whether a server host's "ns/" prefix admits a
// VirtualService of namespace vsNS ("." is the Gateway's own namespace).
func admitsNamespace(h serverHost, vsNS, gwNS string) bool {
	switch h.ns {
	case "*":
		return true
	case ".":
		return vsNS == gwNS
	}
	return h.ns == vsNS
}

// vsDomains is the intersection of a VirtualService's hosts with a server's,
// sorted and deduplicated; empty when the VirtualService does not apply.
func vsDomains(vs *model.VirtualService, s *serverRef) []string {
	var out []string
	eachDomain(vs, s, func(d, _ string) { out = append(out, d) })
	return sortedUnique(out)
}

// eachDomain calls f with each domain d a VirtualService host h
// (lower-cased) yields through a server host that admits the VirtualService's
// namespace: their intersection (intersectHost). The order of the calls is
// not defined. An exact VirtualService host meets only the server's equal
// host and its wildcards, found in the server's index (hostIndex).
func eachDomain(vs *model.VirtualService, s *serverRef, f func(d, h string)) {
	for _, h := range vs.Spec.Hosts {
		h = strings.ToLower(h)
		s.hostIdx.eachMeeting(s.hosts, h, vs.Metadata.Namespace, s.gw.Metadata.Namespace, func(d string) bool {
			f(d, h)
			return true
		})
	}
}

// hostIndexMin is the number of hosts from which a list of server hosts
// is indexed: a server (or Gateway) of 10,000 hosts met each of 10,000
// VirtualServices host by host.
const hostIndexMin = 8

// hostIndex indexes a list of server hosts on first use: its exact hosts
// by name, and its wildcards.
type hostIndex struct {
	byHost map[string][]serverHost
	wild   []serverHost
}

// eachMeeting calls f with the intersection d of host h (lower-cased) and
// each host of list (which x indexes) that admits a VirtualService of
// namespace vsNS on a Gateway of namespace gwNS, until f returns false;
// it reports whether f never did.
func (x *hostIndex) eachMeeting(list []serverHost, h, vsNS, gwNS string, f func(d string) bool) bool {
	exact, wild := x.meeting(list, h)
	for _, hosts := range [2][]serverHost{exact, wild} {
		for _, sh := range hosts {
			if !admitsNamespace(sh, vsNS, gwNS) {
				continue
			}
			if d, ok := intersectHost(sh.host, h); ok && !f(d) {
				return false
			}
		}
	}
	return true
}

// meeting returns the hosts of list (which x indexes) that may intersect
// host h (lower-cased), in two parts: all of them for a wildcard h or a
// short list; otherwise the hosts equal to h, and the wildcards.
func (x *hostIndex) meeting(list []serverHost, h string) (exact, wild []serverHost) {
	if len(list) < hostIndexMin || strings.Contains(h, "*") {
		return list, nil
	}
	if x.byHost == nil {
		x.byHost = map[string][]serverHost{}
		for _, sh := range list {
			if strings.Contains(sh.host, "*") {
				x.wild = append(x.wild, sh)
			} else {
				x.byHost[sh.host] = append(x.byHost[sh.host], sh)
			}
		}
	}
	return x.byHost[h], x.wild
}

// boundVirtualServices are the VirtualServices, in Istio's order (see
// istioOrder), that name s's Gateway and share a host with s; with anyHost, also those
// without hosts (tcp-only VirtualServices may omit them).
func (b *builder) boundVirtualServices(s *serverRef, anyHost bool) []*model.VirtualService {
	var out []*model.VirtualService
	for _, vs := range b.vsIndex().candidates(s) {
		if len(vsDomains(vs, s)) > 0 || (anyHost && len(vs.Spec.Hosts) == 0) {
			out = append(out, vs)
		}
	}
	return out
}

// virtualServiceIndex finds the VirtualServices a server may bind without
// scanning all of them for every server, which made a gateway of 10,000
// servers and VirtualServices quadratic.
type virtualServiceIndex struct {
	order     map[*model.VirtualService]int
	byGateway map[string]*gatewayVS // "ns/name"
}

// gatewayVS are the VirtualServices naming one Gateway: by exact host, and
// those with a wildcard host or none, which any server may bind.
type gatewayVS struct {
	all, loose []*model.VirtualService
	exact      map[string][]*model.VirtualService
}

func (b *builder) vsIndex() *virtualServiceIndex {
	if b.vsIdx != nil {
		return b.vsIdx
	}
	idx := &virtualServiceIndex{order: map[*model.VirtualService]int{}, byGateway: map[string]*gatewayVS{}}
	var seen []string // the gateways vs names, each added once
	for i, vs := range istioOrder(b.cfg.VirtualServices) {
		idx.order[vs] = i
		seen = seen[:0]
		for _, ref := range vs.Spec.Gateways {
			ns, name, ok := gatewayRef(ref, vs.Metadata.Namespace)
			if !ok {
				continue
			}
			if k := ns + "/" + name; !slices.Contains(seen, k) {
				seen = append(seen, k)
				idx.gateway(k).add(vs)
			}
		}
	}
	b.vsIdx = idx
	return idx
}

func (idx *virtualServiceIndex) gateway(key string) *gatewayVS {
	g := idx.byGateway[key]
	if g == nil {
		g = &gatewayVS{exact: map[string][]*model.VirtualService{}}
		idx.byGateway[key] = g
	}
	return g
}

func (g *gatewayVS) add(vs *model.VirtualService) {
	g.all = append(g.all, vs)
	loose := len(vs.Spec.Hosts) == 0
	for _, h := range vs.Spec.Hosts {
		if strings.Contains(h, "*") {
			loose = true
			continue
		}
		g.exact[strings.ToLower(h)] = append(g.exact[strings.ToLower(h)], vs)
	}
	if loose {
		g.loose = append(g.loose, vs)
	}
}

// candidates are the VirtualServices naming s's Gateway that can share a
// host with s, in Istio's order: for a server with only exact hosts,
// those with one of its hosts plus the loose ones; otherwise all.
func (idx *virtualServiceIndex) candidates(s *serverRef) []*model.VirtualService {
	g := idx.byGateway[s.gw.Metadata.Namespace+"/"+s.gw.Metadata.Name]
	if g == nil {
		return nil
	}
	var out []*model.VirtualService
	for _, h := range s.hosts {
		if strings.Contains(h.host, "*") {
			return g.all
		}
		out = append(out, g.exact[h.host]...)
	}
	out = append(out, g.loose...)
	// Sorted by position, a VirtualService found twice (two of its hosts,
	// or loose too) is next to itself: distinct ones have distinct positions.
	slices.SortFunc(out, func(a, b *model.VirtualService) int { return idx.order[a] - idx.order[b] })
	return slices.Compact(out)
}

// isIP reports whether host is an IP literal.
func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
