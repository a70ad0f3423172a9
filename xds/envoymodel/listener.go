package envoymodel

import (
	"fmt"
	"net/netip"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// socket is what filter-chain matching sees of a new connection, after the
// listener filters ran (source/common/listener_manager/active_tcp_socket.cc,
// ActiveTcpSocket::newConnection: a transport protocol no listener filter
// set defaults to "raw_buffer").
type socket struct {
	local     netip.Addr
	port      uint32
	sni       string
	transport string
	alpn      []string
}

// inspect is what the listener filters record: with tls_inspector and a
// ClientHello, the SNI (lower-cased: FilterChainManagerImpl asserts it is),
// the ALPN list and transport protocol "tls"; without the inspector no SNI,
// no ALPN and "raw_buffer", even for a TLS client
// (source/extensions/filters/listener/tls_inspector/tls_inspector.cc,
// Filter::onServername, Filter::onALPN, Filter::getParserState).
func inspect(l *listener, conn *Connection) socket {
	s := socket{local: conn.DestinationIP, port: conn.Port, transport: "raw_buffer"}
	if !s.local.IsValid() {
		s.local = l.addr
	}
	if l.inspector && conn.TLS {
		s.transport = "tls"
		s.sni = asciiLower(conn.SNI)
		s.alpn = conn.ALPN
	}
	return s
}

// findListener picks the listener bound to the connection's port: one bound
// to the exact destination address first, else one bound to any address
// (source/common/listener_manager/connection_handler_impl.cc,
// ConnectionHandlerImpl::getBalancedHandlerByAddress).
func (m *Model) findListener(conn *Connection) *listener {
	var anyAddr *listener
	for _, l := range m.listeners {
		if l.port != conn.Port {
			continue
		}
		if l.addr.IsValid() && conn.DestinationIP.IsValid() && l.addr == conn.DestinationIP {
			return l
		}
		if !l.addr.IsValid() && anyAddr == nil {
			anyAddr = l
		}
	}
	if anyAddr == nil {
		for _, l := range m.listeners {
			if l.port == conn.Port && !conn.DestinationIP.IsValid() {
				return l
			}
		}
	}
	return anyAddr
}

// findFilterChain is FilterChainManagerImpl::findFilterChain
// (source/common/listener_manager/filter_chain_manager_impl.cc): the
// destination port (a chain naming the port beats chains naming none, and
// once one does, a miss falls to the default chain, not to port-less
// chains), then the destination IP (longest prefix), then the server name
// (exact, then the longest wildcard suffix, then chains without names;
// each step commits), then the transport protocol (exact, then none), then
// the application protocols (the first offered one some chain names, then
// none). Source matches are refused by New. It returns nil when no chain
// matches and there is no default chain.
func findFilterChain(l *listener, s socket) (*chain, string) {
	return matchFilterChain(l, newAddrStage(l, s.port, s.local), s)
}

// addrStage is what filter-chain matching decides from the destination
// port and address alone, which many connections share (Model.filterChain
// keeps one per listener, port and address): the chains left after those
// two steps, and those chains by server-name key, so that the server-name
// step costs a map lookup per suffix, not a pass over every chain (at
// 10,000 chains, the props checks' connections spent 12 s scanning them).
type addrStage struct {
	cands  []*chain
	why    string              // when cands is empty
	byName map[string][]*chain // nameKeys -> the chains holding it, in cands order
}

// newAddrStage runs the destination port and IP steps for l.
func newAddrStage(l *listener, port uint32, local netip.Addr) *addrStage {
	cands, why := byDestinationIP(byDestinationPort(l.chains, port), socket{local: local, port: port})
	st := &addrStage{cands: cands, why: why, byName: map[string][]*chain{}}
	for _, c := range cands {
		for _, k := range c.nameKeys() {
			if held := st.byName[k]; len(held) == 0 || held[len(held)-1] != c { // a name listed twice counts once
				st.byName[k] = append(held, c)
			}
		}
	}
	return st
}

// matchFilterChain runs the steps after the destination address on st.
func matchFilterChain(l *listener, st *addrStage, s socket) (*chain, string) {
	miss := func(why string) (*chain, string) {
		if l.fallback != nil {
			return l.fallback, why + "; the default filter chain takes it"
		}
		return nil, why
	}
	if len(st.cands) == 0 {
		return miss(st.why)
	}
	cands, why := st.byServerName(s)
	for _, step := range []func([]*chain, socket) ([]*chain, string){byTransport, byALPN} {
		if len(cands) == 0 {
			break
		}
		cands, why = step(cands, s)
	}
	if len(cands) == 0 {
		return miss(why)
	}
	return cands[0], ""
}

// byDestinationPort keeps the chains naming port, or, if none does, those
// naming no port.
func byDestinationPort(chains []*chain, port uint32) []*chain {
	var withPort, noPort []*chain
	for _, c := range chains {
		switch c.match.GetDestinationPort().GetValue() {
		case port:
			withPort = append(withPort, c)
		case 0:
			noPort = append(noPort, c)
		}
	}
	if len(withPort) > 0 {
		return withPort
	}
	return noPort
}

// byDestinationIP keeps the chains whose prefix_ranges hold the local
// address with the longest prefix (no ranges: 0.0.0.0/0 and ::/0).
func byDestinationIP(cands []*chain, s socket) ([]*chain, string) {
	best, out := -1, []*chain(nil)
	for _, c := range cands {
		n := -1
		if len(c.match.GetPrefixRanges()) == 0 {
			n = 0
		}
		for _, r := range c.match.GetPrefixRanges() {
			if p, err := cidrPrefix(r); err == nil && s.local.IsValid() && p.Contains(s.local) && p.Bits() > n {
				n = p.Bits()
			}
		}
		switch {
		case n > best:
			best, out = n, []*chain{c}
		case n == best && n >= 0:
			out = append(out, c)
		}
	}
	if best < 0 {
		return nil, fmt.Sprintf("no filter chain matches destination address %s", s.local)
	}
	return out, ""
}

// byServerName is findFilterChainForServerName on st's chains. The slices
// it returns are st's: the steps after it make new ones.
func (st *addrStage) byServerName(s socket) ([]*chain, string) {
	if out := st.byName[s.sni]; len(out) > 0 {
		return out, ""
	}
	// Wildcards from the longest suffix: ".b.example.com", then
	// ".example.com", then ".com" for "a.b.example.com".
	for pos := indexFrom(s.sni, '.', 1); pos >= 0 && pos < len(s.sni)-1; pos = indexFrom(s.sni, '.', pos+1) {
		if out := st.byName[s.sni[pos:]]; len(out) > 0 {
			return out, ""
		}
	}
	if out := st.byName[""]; len(out) > 0 {
		return out, ""
	}
	if s.sni == "" {
		return nil, "no filter chain matches a connection without SNI (every chain names server_names)"
	}
	return nil, fmt.Sprintf("no filter chain matches SNI %q", s.sni)
}

// nameKeys are the chain's server names as findFilterChainForServerName
// keys them: lower case, "*.example.com" as ".example.com", and "" for a
// chain without server names. Computed once: the model explains many
// connections on the same chains.
func (c *chain) nameKeys() []string {
	c.keysOnce.Do(func() {
		for _, n := range c.match.GetServerNames() {
			n = asciiLower(n)
			if isWildcardServerName(n) {
				n = n[1:] // "*.example.com" is keyed ".example.com"
			}
			c.keys = append(c.keys, n)
		}
		if len(c.keys) == 0 {
			c.keys = []string{""}
		}
	})
	return c.keys
}

// indexFrom is std::string::find(b, from): the index of b at or after from,
// or -1.
func indexFrom(s string, b byte, from int) int {
	if from >= len(s) {
		return -1
	}
	if i := strings.IndexByte(s[from:], b); i >= 0 {
		return from + i
	}
	return -1
}

// isWildcardServerName is FilterChainManagerImpl::isWildcardServerName.
func isWildcardServerName(n string) bool { return strings.HasPrefix(n, "*.") }

// byTransport is findFilterChainForTransportProtocol.
func byTransport(cands []*chain, s socket) ([]*chain, string) {
	var exact, none []*chain
	for _, c := range cands {
		switch c.match.GetTransportProtocol() {
		case s.transport:
			exact = append(exact, c)
		case "":
			none = append(none, c)
		}
	}
	if len(exact) > 0 {
		return exact, ""
	}
	if len(none) > 0 {
		return none, ""
	}
	return nil, fmt.Sprintf("no filter chain for transport protocol %q", s.transport)
}

// byALPN is findFilterChainForApplicationProtocols.
func byALPN(cands []*chain, s socket) ([]*chain, string) {
	for _, p := range s.alpn {
		var out []*chain
		for _, c := range cands {
			for _, ap := range c.match.GetApplicationProtocols() {
				if ap == p {
					out = append(out, c)
					break
				}
			}
		}
		if len(out) > 0 {
			return out, ""
		}
	}
	var none []*chain
	for _, c := range cands {
		if len(c.match.GetApplicationProtocols()) == 0 {
			none = append(none, c)
		}
	}
	if len(none) > 0 {
		return none, ""
	}
	return nil, fmt.Sprintf("no filter chain for application protocols %v", s.alpn)
}

// cidrPrefix parses a CidrRange.
func cidrPrefix(r *corev3.CidrRange) (netip.Prefix, error) {
	a, err := netip.ParseAddr(r.GetAddressPrefix())
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("CIDR %q: %w", r.GetAddressPrefix(), err)
	}
	bits := a.BitLen()
	if r.GetPrefixLen() != nil {
		bits = int(r.GetPrefixLen().GetValue())
	}
	return a.Prefix(bits)
}

// checkDuplicateMatches is FilterChainManagerImpl's refusal of two chains
// whose matches overlap on every field (addFilterChainForSourcePorts:
// "multiple filter chains with overlapping matching rules are defined").
func checkDuplicateMatches(l *listener) error {
	seen := map[string]string{}
	for _, c := range l.chains {
		for _, key := range matchKeys(c) {
			if prev, dup := seen[key]; dup {
				return fmt.Errorf("filter chains %q and %q have overlapping matching rules: Envoy rejects the listener", prev, c.name)
			}
			seen[key] = c.name
		}
	}
	return nil
}

// matchKeys expands a chain's match into one key per combination of its
// repeated fields.
func matchKeys(c *chain) []string {
	fm := c.match
	ips := []string{""}
	if len(fm.GetPrefixRanges()) > 0 {
		ips = nil
		for _, r := range fm.GetPrefixRanges() {
			p, _ := cidrPrefix(r)
			ips = append(ips, p.Masked().String())
		}
	}
	names := []string{""}
	if len(fm.GetServerNames()) > 0 {
		names = nil
		for _, n := range fm.GetServerNames() {
			names = append(names, asciiLower(n))
		}
	}
	alpns := []string{""}
	if len(fm.GetApplicationProtocols()) > 0 {
		alpns = fm.GetApplicationProtocols()
	}
	var out []string
	for _, ip := range ips {
		for _, n := range names {
			for _, a := range alpns {
				out = append(out, fmt.Sprintf("%d|%s|%s|%s|%s", fm.GetDestinationPort().GetValue(), ip, n, fm.GetTransportProtocol(), a))
			}
		}
	}
	return out
}
