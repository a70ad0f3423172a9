package irbuild

import (
	"github.com/trustgate/trustgate/xds/ir"
	"slices"
	"strings"
)

// Envoy picks a TLS connection's filter chain by SNI and, within it, a
// request's virtual host by Host alone; it never compares the two. A client
// can therefore send SNI www.example.com (landing on a public chain) and
// Host: admin.example.com: whatever virtual host the public chain's route
// configuration selects for admin.example.com answers. This file makes every
// such request end in a 421 there, whatever the mix of exact, wildcard and
// "*" servers and VirtualService hosts on the port.
//
// The two lookups agree on what "most specific" means, which the code below
// relies on:
//   - filter chains, FilterChainManagerImpl::findFilterChainForServerName
//     (source/common/listener_manager/filter_chain_manager_impl.cc): the
//     exact server name, else the longest "*.suffix", else the chain without
//     server names;
//   - virtual hosts, RouteMatcher::findVirtualHost (source/common/router/
//     config_impl.cc): the exact domain, else the longest suffix wildcard
//     shorter than the host, else "*"; the Host lower-cased, its port dropped
//     (ignore_port_in_host_matching) and, before routing, its trailing dot
//     (HCM strip_trailing_host_dot, ConnectionManagerUtility::
//     maybeNormalizeHost).

// sniOwners answers which chain of a port Envoy gives a server name. A
// server whose hosts are "*" besides other names owns both its names and
// the catch-all: its two chains (see addAnySNIChains) are one chainInfo.
type sniOwners struct {
	byName   map[string]*chainInfo // exact names and "*.suffix" patterns
	catchAll *chainInfo            // the chain without server names
}

// newSNIOwners indexes the chains of one port. Where two chains claim one
// name (only a passthrough chain and a terminating one can, and that is an
// error reported by checkPassthroughTakeover), the passthrough chain is the
// owner, as in Envoy: findFilterChainForTransportProtocol prefers
// transport_protocol "tls".
func newSNIOwners(chains []*chainInfo) *sniOwners {
	o := &sniOwners{byName: map[string]*chainInfo{}}
	claim := func(slot **chainInfo, ci *chainInfo) {
		if *slot == nil || ci.chain.TransportProtocol != "" {
			*slot = ci
		}
	}
	for _, ci := range chains {
		if len(ci.chain.ServerNames) == 0 || ci.starToo {
			claim(&o.catchAll, ci)
		}
		for _, n := range ci.chain.ServerNames {
			slot := o.byName[n]
			claim(&slot, ci)
			o.byName[n] = slot
		}
	}
	return o
}

// owner is the chain Envoy picks for SNI name, or for every name under the
// pattern "*.suffix" that no more specific server name takes: the name
// itself, then each wildcard of a shorter suffix, longest first, then the
// catch-all. "*" has only the catch-all. nil when no chain takes it.
func (o *sniOwners) owner(name string) *chainInfo {
	if name == "*" {
		return o.catchAll
	}
	if ci := o.byName[name]; ci != nil {
		return ci
	}
	rest := strings.TrimPrefix(name, "*.")
	for i := strings.IndexByte(rest, '.'); i >= 0; i = strings.IndexByte(rest, '.') {
		rest = rest[i+1:]
		if ci := o.byName["*."+rest]; ci != nil {
			return ci
		}
	}
	return o.catchAll
}

// confineHosts limits the route configuration of every TLS-terminating HTTP
// chain of one port to the hosts that chain owns: a domain that another
// chain's server name takes by SNI is removed from its virtual hosts, and
// every other chain's server name that a remaining domain would still
// select gets the 421 virtual host, together with "*" for every host the
// chain does not serve at all.
func confineHosts(chains []*chainInfo) {
	owners := newSNIOwners(chains)
	// The server names' index serves wildcard domains only: built for the
	// first, so that a port of exact hosts (10,000 in gencfg's) needs none.
	var names *domainIndex[*chainInfo]
	index := func() *domainIndex[*chainInfo] {
		if names == nil {
			names = serverNames(chains)
		}
		return names
	}
	for _, ci := range chains {
		if ci.rc == nil || ci.chain.TLS == nil {
			continue
		}
		keepOwnDomains(ci, owners)
		addMisdirected(ci, foreignNames(ci, index))
	}
}

// keepOwnDomains drops from ci's virtual hosts every domain that SNI would
// send to another chain (a VirtualService host "api.admin.example.com" on a
// "*.example.com" server, when "*.admin.example.com" is another server of
// the port), and the virtual hosts left without domains.
func keepOwnDomains(ci *chainInfo, owners *sniOwners) {
	var kept []*ir.VirtualHost
	for _, vh := range ci.rc.VirtualHosts {
		vh.Domains = slices.DeleteFunc(vh.Domains, func(d string) bool { return owners.owner(d) != ci })
		if len(vh.Domains) > 0 {
			kept = append(kept, vh)
		}
	}
	ci.rc.VirtualHosts = kept
}

// foreignNames are the server names of the port's other chains that some
// domain of ci's route configuration covers (only a wildcard or "*" domain
// can: an equal exact domain was dropped by keepOwnDomains). Names no domain
// covers fall to the "*" 421 anyway and are left out, so that a port of many
// exact servers does not grow quadratically.
func foreignNames(ci *chainInfo, names func() *domainIndex[*chainInfo]) []string {
	var out []string
	for _, vh := range ci.rc.VirtualHosts {
		for _, d := range vh.Domains {
			if !strings.HasPrefix(d, "*") {
				continue
			}
			names().covered(d, func(n string, o *chainInfo) {
				if o != ci {
					out = append(out, n)
				}
			})
		}
	}
	return sortedUnique(out)
}

// serverNames indexes the server names of a port's chains, each with its
// chain: testing every name against each chain's wildcard domains made a
// port of 10,000 wildcard servers quadratic.
func serverNames(chains []*chainInfo) *domainIndex[*chainInfo] {
	x := newDomainIndex[*chainInfo]()
	for _, ci := range chains {
		for _, n := range ci.chain.ServerNames {
			x.add(n, ci)
		}
	}
	return x
}

// MisdirectedVirtualHost names the virtual host of a TLS server's route
// configuration that answers 421 for the hosts the server does not serve.
const MisdirectedVirtualHost = "misdirected-request"

// addMisdirected answers 421 for foreign (other servers' names that a
// domain of ci would otherwise select) and, unless a virtual host already
// catches all, for any other Host. 421 also serves HTTP/2 connection
// coalescing: a client reusing a connection for another host its
// certificate covers retries on a new connection, where a 404 would be
// final (Istio's "404 NR" with shared wildcard certificates). The route is
// one of the chain's local replies (see finishChains).
func addMisdirected(ci *chainInfo, foreign []string) {
	domains := foreign
	catchAll := slices.ContainsFunc(ci.rc.VirtualHosts, func(vh *ir.VirtualHost) bool { return slices.Contains(vh.Domains, "*") })
	if !catchAll {
		domains = append(append(make([]string, 0, len(foreign)+1), "*"), foreign...) // one allocation
	}
	if len(domains) == 0 {
		return
	}
	r := &ir.Route{
		Name:           MisdirectedVirtualHost,
		Match:          ir.RouteMatch{PathPrefix: "/"},
		DirectResponse: &ir.DirectResponse{Status: 421, Body: "Misdirected Request: this TLS server does not serve this host\n"},
	}
	ci.localRoutes = append(ci.localRoutes, r)
	ci.rc.VirtualHosts = append(ci.rc.VirtualHosts, &ir.VirtualHost{Name: MisdirectedVirtualHost, Domains: domains, Routes: []*ir.Route{r}})
	slices.SortFunc(ci.rc.VirtualHosts, byVHostName) // as sort.Slice did: see byVHostName
}

// checkPassthroughTakeover rejects a passthrough chain whose server name is
// also a TLS-terminating chain's. Both match the name equally, and Envoy
// then prefers the chain with transport_protocol "tls"
// (findFilterChainForTransportProtocol): the host would be passed through
// and its certificate policy never applied.
func (b *builder) checkPassthroughTakeover(g *portGroup, chains []*chainInfo) {
	terminating := map[string]*chainInfo{}
	for _, ci := range chains {
		if ci.chain.TLS == nil {
			continue
		}
		for _, n := range sniNames(ci) {
			terminating[n] = ci
		}
	}
	for _, ci := range chains {
		if ci.chain.TransportProtocol == "" {
			continue
		}
		for _, n := range sniNames(ci) {
			t := terminating[n]
			if t == nil {
				continue
			}
			b.errorf(&ci.vs.Object, ci.vsPath, "SNI %q on port %d is passed through by %s but terminated with %s by %s: Envoy picks the passthrough chain for it (transport_protocol tls wins), so no certificate would be checked there; remove the host from one of the two servers",
				n, g.port, serverDesc(ci.servers[0]), t.chain.TLS.Mode, serverDesc(t.servers[0]))
		}
	}
}

// sniNames are the SNI names a chain takes: its server names, and "*" for
// a catch-all or a server that has one besides its names.
func sniNames(ci *chainInfo) []string {
	if len(ci.chain.ServerNames) == 0 {
		return []string{"*"}
	}
	if ci.starToo {
		return append(slices.Clone(ci.chain.ServerNames), "*")
	}
	return ci.chain.ServerNames
}
