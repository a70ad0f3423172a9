package irbuild

import (
	"slices"
	"sort"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// chainInfo is a built chain plus what the policy passes need to know: the
// servers it serves, its route configuration, its pending client CA and the
// RBAC rules collected for it.
type chainInfo struct {
	chain   *ir.Chain
	servers []*serverRef    // one, except for the shared plain-HTTP chain
	rc      *ir.RouteConfig // nil for TCP chains
	// ca is the client CA chosen for a MUTUAL/OPTIONAL_MUTUAL chain; it is
	// registered as a secret only after ClientCertificatePolicies had their
	// say (clientCA, crl.onlyVerifyLeaf).
	ca   *caSource
	rbac *ir.RBAC
	// rejection is set when a ClientCertificatePolicy answers requests
	// without a certificate over HTTP.
	rejection bool
	// localRoutes are the answers trustgate makes itself on this chain (the
	// 421, the rejection): no RBAC applies to them (see finishChains).
	localRoutes []*ir.Route
	// vs and vsPath name the tls route of a passthrough chain.
	vs     *model.VirtualService
	vsPath string
	// starToo is set for a TLS server whose hosts are "*" besides other
	// names: chain matches those names by SNI and the chain anySNI, its
	// copy without server names, every other SNI and none (see
	// addAnySNIChains). Both are this server: one route configuration, one
	// TLS context, one RBAC.
	starToo bool
	anySNI  *ir.Chain
}

// buildListener builds the listener of one port; nil when no chain
// resulted (a TCP or passthrough server without routes).
func (b *builder) buildListener(g *portGroup) (*ir.Listener, []*chainInfo) {
	if len(g.servers) == 0 {
		return nil, nil
	}
	var chains []*chainInfo
	if g.servers[0].kind == kindHTTP {
		chains = append(chains, b.plainHTTPChain(g))
	} else {
		chains = b.allServerChains(g)
	}
	b.checkPassthroughSNI(g, chains)
	b.checkPassthroughTakeover(g, chains)
	confineHosts(chains)
	markDefaultServer(g, chains)
	if len(chains) == 0 {
		return nil, nil
	}
	slices.SortFunc(chains, func(a, b *chainInfo) int { return strings.Compare(a.chain.Name, b.chain.Name) }) // as sort.Slice did: see byVHostName
	l := &ir.Listener{Name: ir.ListenerName(g.port), Address: g.bind, Port: g.port}
	for _, ci := range chains {
		l.Chains = append(l.Chains, ci.chain)
	}
	addAnySNIChains(g, l, chains)
	return l, chains
}

// addAnySNIChains gives every server whose hosts are "*" besides other
// names a second chain: the first matches the names by SNI, the second
// (no server names) every other SNI and none. One chain cannot do both: a
// chain without server names matches only what no chain names, since
// Envoy prefers any server-name match, exact or the longest wildcard, over
// the catch-all (FilterChainManagerImpl::findFilterChainForServerName in
// source/common/listener_manager/filter_chain_manager_impl.cc). So
// another server's "*.example.com" would take api.mtls.example.com from a
// MUTUAL ["*.mtls.example.com", "*"] server and route it without a
// certificate. The second chain is filled in by syncAnySNIChain once the
// policies are applied. A port's lone server needs none: it is the default
// server, whose chain matches every SNI (markDefaultServer).
func addAnySNIChains(g *portGroup, l *ir.Listener, chains []*chainInfo) {
	for _, ci := range chains {
		if ci.starToo && !ci.chain.DefaultServer {
			ci.anySNI = &ir.Chain{Name: ir.AnySNIChainName(g.port, ci.servers[0].key)}
			l.Chains = append(l.Chains, ci.anySNI)
		}
	}
	sort.Slice(l.Chains, func(i, j int) bool { return l.Chains[i].Name < l.Chains[j].Name })
}

// syncAnySNIChain makes ci's any-SNI chain the copy of its chain without
// server names: same TLS context, RBAC, HTTP connection manager (route
// configuration) or TCP proxy.
func syncAnySNIChain(ci *chainInfo) {
	if ci.anySNI == nil {
		return
	}
	name := ci.anySNI.Name
	*ci.anySNI = *ci.chain
	ci.anySNI.Name = name
	ci.anySNI.ServerNames = nil
	ci.anySNI.DefaultServer = false
}

// setTLSInspectors adds the tls_inspector to every listener on which
// something reads the SNI; it runs once the chains have their RBAC.
func setTLSInspectors(listeners []*ir.Listener) {
	for _, l := range listeners {
		for _, c := range l.Chains {
			if readsSNI(c) {
				l.TLSInspector = true
			}
		}
	}
}

// readsSNI reports whether chain c needs the client's SNI: it matches on
// server names or transport protocol, or an authorization rule tests
// connection.sni. Only the tls_inspector records the SNI where both read
// it: Envoy's RBAC requested_server_name (RequestedServerNameMatcher::
// matches in source/extensions/filters/common/rbac/matchers.cc) reads
// Connection::requestedServerName, which Filter::onServername in
// source/extensions/filters/listener/tls_inspector/tls_inspector.cc sets.
// Terminating TLS does not set it: the TLS transport socket
// (source/common/tls/ssl_socket.cc) keeps the SNI in its own
// Ssl::ConnectionInfo::sni(), which RBAC does not consult. Without the
// inspector a DENY on SNI never applies and an ALLOW on SNI never matches.
func readsSNI(c *ir.Chain) bool {
	if (len(c.ServerNames) > 0 && !c.DefaultServer) || c.TransportProtocol != "" {
		return true
	}
	if c.RBAC == nil {
		return false
	}
	for _, rules := range [][]ir.AuthzRule{c.RBAC.Deny, c.RBAC.Allow} {
		for _, r := range rules {
			for _, w := range r.When {
				if w.Key == ir.CondSNI {
					return true
				}
			}
		}
	}
	return false
}

// serverChains builds the chains of one TLS or TCP server.
func (b *builder) serverChains(g *portGroup, s *serverRef) []*chainInfo {
	switch s.kind {
	case kindTerminateHTTP:
		return []*chainInfo{b.terminatingHTTPChain(g, s)}
	case kindTerminateTCP:
		if ci := b.terminatingTCPChain(g, s); ci != nil {
			return []*chainInfo{ci}
		}
	case kindPassthrough:
		return b.passthroughChains(g, s)
	case kindTCP:
		if ci := b.tcpChain(g, s); ci != nil {
			return []*chainInfo{ci}
		}
	}
	return nil
}

// plainHTTPChain is the one chain of a plaintext HTTP port: no server names,
// one route configuration with the virtual hosts of all its servers.
func (b *builder) plainHTTPChain(g *portGroup) *chainInfo {
	name := ir.ChainName(g.port, "http")
	rc := b.routeConfig(ir.HTTPRouteConfigName(g.port), g.servers)
	return &chainInfo{
		chain: &ir.Chain{Name: name, HTTP: &ir.HTTPChain{
			StatPrefix: ir.StatPrefix(name), RouteConfig: rc.Name,
			// We are the edge: X-Forwarded-For/-Proto are ours, not the client's.
			UseRemoteAddress: true,
		}},
		servers: g.servers,
		rc:      rc,
	}
}

// terminatingHTTPChain is the chain of one HTTPS server. It gets its own
// route configuration holding only its hosts: Envoy does not check SNI
// against :authority, so a shared one would let a client that passed this
// server's TLS policy reach another server's hosts by changing Host.
// confineHosts then takes out what other servers of the port own.
func (b *builder) terminatingHTTPChain(g *portGroup, s *serverRef) *chainInfo {
	name := ir.ChainName(g.port, s.key)
	rc := b.routeConfig(ir.RouteConfigName(g.port, s.key), []*serverRef{s})
	tls, ca := b.downstreamTLS(s, true)
	names := s.serverNames()
	return &chainInfo{
		chain: &ir.Chain{
			Name: name, ServerNames: names, TLS: tls,
			HTTP: &ir.HTTPChain{
				StatPrefix: ir.StatPrefix(name), RouteConfig: rc.Name,
				// Istio's gateway default: replace any client XFCC with ours.
				XFCC:             &ir.XFCC{Mode: ir.XFCCSanitizeSet, Subject: true, URI: true, DNS: true},
				UseRemoteAddress: true,
			},
		},
		servers: []*serverRef{s},
		rc:      rc,
		ca:      ca,
		starToo: s.hasStarHost() && len(names) > 0,
	}
}

// terminatingTCPChain is the chain of one TLS server that terminates TLS and
// forwards the stream by the VirtualServices' tcp routes.
func (b *builder) terminatingTCPChain(g *portGroup, s *serverRef) *chainInfo {
	dests := b.tcpDestinations(s)
	if dests == nil {
		return nil
	}
	name := ir.ChainName(g.port, s.key)
	tls, ca := b.downstreamTLS(s, false)
	names := s.serverNames()
	return &chainInfo{
		chain: &ir.Chain{
			Name: name, ServerNames: names, TLS: tls,
			TCP: b.tcpChainOf(name, dests),
		},
		servers: []*serverRef{s},
		ca:      ca,
		starToo: s.hasStarHost() && len(names) > 0,
	}
}

// tcpChain is the one chain of a plain TCP port.
func (b *builder) tcpChain(g *portGroup, s *serverRef) *chainInfo {
	dests := b.tcpDestinations(s)
	if dests == nil {
		return nil
	}
	name := ir.ChainName(g.port, s.key)
	return &chainInfo{
		chain:   &ir.Chain{Name: name, TCP: b.tcpChainOf(name, dests)},
		servers: []*serverRef{s},
	}
}

// checkPassthroughSNI rejects an SNI name matched by two passthrough chains
// of one port (Envoy rejects equal filter chain matches).
func (b *builder) checkPassthroughSNI(g *portGroup, chains []*chainInfo) {
	seen := map[string]*chainInfo{}
	for _, ci := range chains {
		if ci.chain.TransportProtocol == "" {
			continue
		}
		names := ci.chain.ServerNames
		if len(names) == 0 {
			names = []string{"*"}
		}
		for _, n := range names {
			if prev, ok := seen[n]; ok {
				b.errorf(&ci.vs.Object, ci.vsPath, "duplicate SNI %q on port %d: also routed by %s %s%s", n, g.port, prev.vs.Ref(), prev.vsPath, prev.vs.Pos.At(prev.vsPath))
				continue
			}
			seen[n] = ci
		}
	}
}

// finishChains registers each chain's client CA secret and attaches its
// RBAC, once every policy has been applied.
func (b *builder) finishChains(chains []*chainInfo) {
	for _, ci := range chains {
		if ci.ca != nil && ci.chain.TLS != nil {
			ci.chain.TLS.CASecret = b.addCASecret(ci.ca)
		}
		if ci.rbac != nil {
			b.sortRBAC(ci)
			ci.chain.RBAC = ci.rbac
			exemptLocalRoutes(ci)
		}
		if ci.chain.HTTP != nil && ci.rc != nil {
			ci.chain.HTTP.CORS = hasCORS(ci.rc)
		}
		syncAnySNIChain(ci)
	}
}

// exemptLocalRoutes takes the chain's own answers out of its RBAC. RBAC
// decides in decodeHeaders (RoleBasedAccessControlFilter::decodeHeaders,
// source/extensions/filters/http/rbac/rbac_filter.cc), before the router
// sends a direct response, so under an ALLOW policy a client without a
// certificate would get 403 instead of the configured rejection, and a
// misdirected request 403 instead of 421. These routes only answer from the
// gateway (direct response or redirect), so skipping RBAC for them lets no
// request reach a backend.
func exemptLocalRoutes(ci *chainInfo) {
	for _, r := range ci.localRoutes {
		if r.Forward == nil {
			r.BypassRBAC = true
		}
	}
}

// hasCORS reports whether some route of rc has a CORS policy.
func hasCORS(rc *ir.RouteConfig) bool {
	for _, vh := range rc.VirtualHosts {
		for _, r := range vh.Routes {
			if r.CORS != nil {
				return true
			}
		}
	}
	return false
}

// sortRBAC sorts a chain's rules by name (Envoy evaluates policies in
// lexicographic order anyway) and rejects duplicate names.
func (b *builder) sortRBAC(ci *chainInfo) {
	for _, rules := range [][]ir.AuthzRule{ci.rbac.Deny, ci.rbac.Allow} {
		sort.SliceStable(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	}
	all := append(append([]ir.AuthzRule(nil), ci.rbac.Deny...), ci.rbac.Allow...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	for i := 1; i < len(all); i++ {
		if all[i].Name == all[i-1].Name {
			s := ci.servers[0]
			b.errorf(&s.gw.Object, s.path, "two authorization rules named %q apply to chain %s; rule names must be unique", all[i].Name, ci.chain.Name)
		}
	}
}
