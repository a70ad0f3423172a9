package envoymodel

import (
	"fmt"
	"strings"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	sfsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
)

// run is the state of one explanation.
type run struct {
	m     *Model
	conn  *Connection
	req   *Request
	t     *Trace
	sock  socket
	hs    *handshake
	chain *chain
	state map[string]string // connection- and stream-level filter state
	// currentHeaders are the request's headers once the HCM has them.
	currentHeaders *headerMap
}

// Explain follows one connection and, on HTTP chains, one request through
// Envoy. It never fails: what Envoy would do with anything it reaches is in
// the trace.
func (m *Model) Explain(conn Connection, req Request) *Trace {
	r := &run{m: m, conn: &conn, req: &req, state: map[string]string{},
		t: &Trace{ClientCertificate: CertNone, UpstreamHeaders: map[string]string{}, Policies: []PolicyDecision{}}}
	r.explain()
	return r.t
}

// step records a step.
func (r *run) step(stage, source, format string, args ...any) {
	r.t.Steps = append(r.t.Steps, Step{Stage: stage, Text: fmt.Sprintf(format, args...), Source: source})
}

// end sets the verdict.
func (r *run) end(v Verdict, status int, reason string) {
	r.t.Verdict, r.t.Status, r.t.Reason = v, status, reason
}

// explain runs the listener, the filter chain, the handshake and the
// network filters.
func (r *run) explain() {
	l := r.m.findListener(r.conn)
	if l == nil {
		r.end(NoListener, 0, fmt.Sprintf("no listener on port %d: the connection is refused", r.conn.Port))
		return
	}
	r.t.Listener = l.name
	r.sock = inspect(l, r.conn)
	if l.inspector {
		r.step("listener", "source/extensions/filters/listener/tls_inspector/tls_inspector.cc",
			"%s: tls_inspector reads transport %q, SNI %q, ALPN %v", l.name, r.sock.transport, r.sock.sni, r.sock.alpn)
	} else {
		r.step("listener", "source/common/listener_manager/active_tcp_socket.cc, ActiveTcpSocket::newConnection",
			"%s has no tls_inspector: filter chains see no SNI, no ALPN and transport \"raw_buffer\"", l.name)
	}
	c, why := r.m.filterChain(l, r.sock)
	if c == nil {
		r.end(ConnectionClosed, 0, why+": Envoy closes the connection (no matching filter chain)")
		return
	}
	r.t.FilterChain = c.name
	r.chain = c
	r.step("filter-chain", "source/common/listener_manager/filter_chain_manager_impl.cc, FilterChainManagerImpl::findFilterChain",
		"filter chain %q (%s)%s", c.name, describeChainMatch(c), suffix(why))
	if !r.transport(c) {
		return
	}
	r.networkFilters(c)
}

// suffix prefixes a non-empty note with "; ".
func suffix(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

// describeChainMatch renders a chain's match.
func describeChainMatch(c *chain) string {
	var parts []string
	fm := c.match
	if len(fm.GetServerNames()) > 0 {
		parts = append(parts, "server_names "+strings.Join(fm.GetServerNames(), ","))
	}
	if fm.GetTransportProtocol() != "" {
		parts = append(parts, "transport "+fm.GetTransportProtocol())
	}
	if len(fm.GetApplicationProtocols()) > 0 {
		parts = append(parts, "ALPN "+strings.Join(fm.GetApplicationProtocols(), ","))
	}
	if len(parts) == 0 {
		return "matches any connection"
	}
	return strings.Join(parts, ", ")
}

// transport runs the chain's transport socket; false when the connection
// ends there.
func (r *run) transport(c *chain) bool {
	switch {
	case c.tls == nil && !r.conn.TLS:
		r.t.Peer = Peer{}
		return true
	case c.tls == nil:
		if c.filters[len(c.filters)-1].tcp != nil {
			r.step("tls", "", "no TLS termination on this chain: the TLS bytes are proxied as they are (passthrough); Envoy never sees a client certificate")
			return true
		}
		r.end(ConnectionClosed, 0, "the client starts TLS but this chain is plaintext HTTP: the codec fails on the ClientHello and closes the connection (curl: \"wrong version number\")")
		return false
	case !r.conn.TLS:
		r.end(HandshakeFailed, 0, "the client speaks plaintext to a TLS filter chain: the handshake fails (Envoy: ssl.connection_error)")
		return false
	}
	r.hs = r.m.doHandshake(c.tls, r.conn)
	r.t.Steps = append(r.t.Steps, r.hs.steps...)
	r.t.ClientCertificate = r.hs.cert
	r.t.Peer = Peer{TLS: true, SNI: r.sock.sni, Presented: r.hs.presented, Validated: r.hs.validated, Resumed: r.hs.resumed}
	if r.hs.peer != nil {
		r.t.Peer.Subject = r.hs.peer.subject
	}
	if r.hs.failed != "" {
		r.step("tls", "source/common/tls/ssl_handshaker.cc, SslHandshakerImpl::doHandshake", "handshake failed: %s", r.hs.failed)
		r.end(HandshakeFailed, 0, r.hs.failed)
		return false
	}
	return true
}

// networkFilters runs the chain's network filters in order.
func (r *run) networkFilters(c *chain) {
	for i, f := range c.filters {
		switch {
		case f.sfs != nil:
			r.setFilterState(fmt.Sprintf("network filter %d %s", i, f.name), f.sfs.GetOnNewConnection())
			if r.t.Peer.TLS {
				r.setFilterState(fmt.Sprintf("network filter %d %s (on TLS handshake)", i, f.name), f.sfs.GetOnDownstreamTlsHandshake())
			}
		case f.rbac != nil:
			label := fmt.Sprintf("network filter %d %s", i, f.name)
			if !r.networkRBAC(label, f.rbac.GetRules(), f.rbac.GetShadowRules()) {
				return
			}
		case f.tcp != nil:
			r.tcpProxy(f)
			return
		case f.hcm != nil:
			r.http(f.hcm)
			return
		}
	}
	r.end(ConnectionClosed, 0, "the filter chain has no terminal filter")
}

// networkRBAC runs a network RBAC filter; false when it closes the
// connection (source/extensions/filters/network/rbac/rbac_filter.cc).
func (r *run) networkRBAC(label string, rules, shadow *rbacv3.RBAC) bool {
	ctx := r.rbacContext(nil)
	if shadow != nil {
		ok, pol := r.m.evalRules(shadow, ctx)
		r.t.Policies = append(r.t.Policies, PolicyDecision{Filter: label, Action: shadow.GetAction().String(), Policy: pol, Allowed: ok, Shadow: true})
	}
	if rules == nil {
		return true
	}
	ok, pol := r.m.evalRules(rules, ctx)
	r.t.Policies = append(r.t.Policies, PolicyDecision{Filter: label, Action: rules.GetAction().String(), Policy: pol, Allowed: ok})
	r.step("rbac", "source/extensions/filters/common/rbac/engine_impl.cc, RoleBasedAccessControlEngineImpl::handleAction",
		"%s: %s rules, %s", label, rules.GetAction(), rbacOutcome(ok, pol))
	if !ok {
		r.end(Denied, 0, fmt.Sprintf("network RBAC denied the connection (%s): Envoy closes it", policyText(pol)))
	}
	return ok
}

// rbacOutcome renders a rule set's decision.
func rbacOutcome(ok bool, pol string) string {
	verdict := "denied"
	if ok {
		verdict = "allowed"
	}
	return fmt.Sprintf("%s (%s)", verdict, policyText(pol))
}

// policyText names the effective policy.
func policyText(pol string) string {
	if pol == "" {
		return "no policy matched"
	}
	return fmt.Sprintf("policy %q matched", pol)
}

// rbacContext is the RBAC view of the connection (and request).
func (r *run) rbacContext(h *headerMap) *rbacContext {
	c := &rbacContext{conn: r.conn, peer: r.t.Peer, sni: r.sock.sni, local: r.sock.local, headers: h, filterState: r.state}
	if r.hs != nil {
		c.cert = r.hs.peer
	}
	return c
}

// formatContext is the formatter view of the connection and request.
func (r *run) formatContext(h *headerMap) *formatContext {
	c := &formatContext{conn: r.conn, tls: r.t.Peer.TLS, sni: r.sock.sni, headers: h, local: r.sock.local, protocol: r.protocol()}
	if c.headers == nil {
		c.headers = &headerMap{}
	}
	if r.hs != nil {
		c.peer, c.version = r.hs.peer, r.hs.version
	}
	return c
}

// setFilterState is set_filter_state (source/extensions/filters/common/
// set_filter_state/filter_config.cc, Config::updateFilterState): each value
// formatted; skip_if_empty skips an empty one; the string factory stores it.
func (r *run) setFilterState(label string, values []*sfsv3.FilterStateValue) {
	if len(values) == 0 {
		return
	}
	ctx := r.formatContext(r.currentHeaders)
	for _, v := range values {
		fs := v.GetFormatString()
		text, _ := formatText(fs)
		val := r.m.compiledFormat(text).evalWith(ctx, fs.GetOmitEmptyValues())
		if val == "" && v.GetSkipIfEmpty() {
			r.step("filter-state", "", "%s: %s not set (%q formats to nothing)", label, v.GetObjectKey(), text)
			continue
		}
		r.state[v.GetObjectKey()] = val
		r.step("filter-state", "", "%s: %s = %q", label, v.GetObjectKey(), val)
	}
}

// tcpProxy ends a TCP chain at its cluster(s).
func (r *run) tcpProxy(f *networkFilter) {
	t := f.tcp
	if name := t.GetCluster(); name != "" {
		r.t.Clusters = []ClusterChoice{r.clusterChoice(name, 1, nil)}
	}
	for _, w := range t.GetWeightedClusters().GetClusters() {
		r.t.Clusters = append(r.t.Clusters, r.clusterChoice(w.GetName(), w.GetWeight(), nil))
	}
	r.pickCluster()
	r.end(Routed, 0, fmt.Sprintf("tcp_proxy forwards the connection to %s", clusterList(r.t.Clusters)))
}

// protocol is the HTTP protocol of the connection: HTTP/2 when ALPN
// negotiates h2 (the server picks its first protocol the client offers,
// SSL_select_next_proto), else HTTP/1.1.
func (r *run) protocol() string {
	if r.chain == nil || r.chain.tls == nil || !r.conn.TLS {
		return "HTTP/1.1"
	}
	for _, p := range r.chain.tls.GetCommonTlsContext().GetAlpnProtocols() {
		for _, c := range r.conn.ALPN {
			if p == c {
				if p == "h2" {
					return "HTTP/2"
				}
				return "HTTP/1.1"
			}
		}
	}
	return "HTTP/1.1"
}
