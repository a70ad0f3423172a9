package irbuild

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
)

// serverKind is what a Gateway server does with its connections.
type serverKind int

const (
	kindHTTP          serverKind = iota // plaintext HTTP, HTTP2, gRPC
	kindTerminateHTTP                   // HTTPS terminated here
	kindTerminateTCP                    // TLS terminated here, then TCP routes
	kindPassthrough                     // TLS forwarded by SNI, not terminated
	kindTCP                             // plain TCP
)

// portClass is what a port's servers must agree on: plain HTTP, TLS
// (terminated or passed through, told apart by SNI) or TCP.
func (k serverKind) portClass() string {
	switch k {
	case kindHTTP:
		return "plain HTTP"
	case kindTCP:
		return "TCP"
	}
	return "TLS"
}

// serverRef is one server of a Gateway that applies to the proxy.
type serverRef struct {
	gw      *model.Gateway
	srv     *model.Server
	index   int
	path    string // "spec.servers[i]"
	key     string // "<gw-namespace>.<gw-name>.<server name or index>"
	kind    serverKind
	mode    string // upper-case TLS mode for TLS kinds
	hosts   []serverHost
	hostIdx hostIndex // of hosts
}

// serverHost is a Gateway server host: the namespace restriction of its
// "ns/" prefix ("*" when absent) and the host, lower-cased.
type serverHost struct {
	ns, host string
}

// portGroup is every server listening on one port.
type portGroup struct {
	port    uint32
	bind    string
	servers []*serverRef
	// hosts maps each host of the port's TLS servers to its server, so
	// that joining a server costs its own hosts, not the port's (a port of
	// 10,000 servers was quadratic).
	hosts map[string]*serverRef
}

// gatewayApplies reports whether gw selects this proxy (an empty selector
// selects every proxy).
func (b *builder) gatewayApplies(gw *model.Gateway) bool {
	return labelset.Selects(gw.Spec.Selector, b.node.Labels)
}

// portGroups groups the servers of the applying Gateways by listening port,
// in configuration order, rejecting protocol conflicts and duplicate hosts.
func (b *builder) portGroups() []*portGroup {
	byPort := map[uint32]*portGroup{}
	var order []*portGroup
	keys := map[string]*serverRef{}
	for _, gw := range b.cfg.Gateways {
		if !b.gatewayApplies(gw) {
			continue
		}
		for i := range gw.Spec.Servers {
			s := b.serverRef(gw, i)
			if s == nil {
				continue
			}
			if prev, ok := keys[s.key]; ok {
				b.errorf(&gw.Object, s.path+".name", "server key %q is also used by %s", s.key, serverDesc(prev))
				continue
			}
			keys[s.key] = s
			port := listenPort(s.srv)
			g := byPort[port]
			if g == nil {
				g = &portGroup{port: port, bind: bindAddress(s.srv)}
				byPort[port] = g
				order = append(order, g)
			}
			if b.checkJoin(g, s) {
				g.join(s)
			}
		}
	}
	return order
}

// listenPort is the port the proxy listens on: the server's targetPort when
// given (the Service port maps onto it, as in Istio), else its number.
func listenPort(s *model.Server) uint32 {
	if s.Port.TargetPort != 0 {
		return s.Port.TargetPort
	}
	return s.Port.Number
}

// bindAddress is the server's bind address, 0.0.0.0 by default.
func bindAddress(s *model.Server) string {
	if s.Bind != "" {
		return s.Bind
	}
	return "0.0.0.0"
}

// serverDesc names a server in messages: "Gateway ns/name spec.servers[i] (file:line)".
func serverDesc(s *serverRef) string {
	return fmt.Sprintf("%s %s%s", s.gw.Ref(), s.path, s.gw.Pos.At(s.path))
}

// serverRef classifies server i of gw; nil (with an error) when unusable.
func (b *builder) serverRef(gw *model.Gateway, i int) *serverRef {
	srv := &gw.Spec.Servers[i]
	s := &serverRef{gw: gw, srv: srv, index: i, path: "spec.servers[" + strconv.Itoa(i) + "]"}
	id := srv.Name
	if id == "" {
		id = strconv.Itoa(i)
	}
	s.key = gw.Metadata.Namespace + "." + gw.Metadata.Name + "." + id
	kind, mode, msg := classify(srv)
	if msg != "" {
		b.errorf(&gw.Object, s.path, "%s", msg)
		return nil
	}
	s.kind, s.mode = kind, mode
	for _, h := range srv.Hosts {
		s.hosts = append(s.hosts, parseServerHost(h))
	}
	if len(s.hosts) == 0 {
		b.errorf(&gw.Object, s.path+".hosts", "at least one host is required")
		return nil
	}
	return s
}

// parseServerHost splits Istio's "ns/host" server host.
func parseServerHost(h string) serverHost {
	h = strings.ToLower(h)
	if ns, host, ok := strings.Cut(h, "/"); ok {
		return serverHost{ns: ns, host: host}
	}
	return serverHost{ns: "*", host: h}
}

// classify maps a server's protocol and TLS mode to its kind; msg explains
// why a server is unusable.
func classify(srv *model.Server) (kind serverKind, mode string, msg string) {
	proto := strings.ToUpper(srv.Port.Protocol)
	if srv.TLS != nil {
		mode = strings.ToUpper(srv.TLS.Mode)
	}
	switch proto {
	case "HTTP", "HTTP2", "GRPC", "GRPC-WEB":
		if mode != "" {
			return 0, "", fmt.Sprintf("port.protocol %s cannot terminate TLS (tls.mode %s); use HTTPS", proto, mode)
		}
		return kindHTTP, "", ""
	case "HTTPS", "TLS":
		return classifyTLS(proto, srv, mode)
	case "TCP":
		if mode != "" {
			return 0, "", fmt.Sprintf("port.protocol TCP cannot have tls.mode %s; use TLS", mode)
		}
		return kindTCP, "", ""
	}
	return 0, "", fmt.Sprintf("port.protocol %q is not supported (HTTP, HTTP2, GRPC, HTTPS, TLS, TCP)", srv.Port.Protocol)
}

// classifyTLS handles HTTPS and TLS servers. Istio's default mode is
// PASSTHROUGH.
func classifyTLS(proto string, srv *model.Server, mode string) (serverKind, string, string) {
	if srv.TLS == nil {
		return 0, "", fmt.Sprintf("port.protocol %s requires tls", proto)
	}
	if mode == "" {
		mode = "PASSTHROUGH"
	}
	switch mode {
	case "PASSTHROUGH":
		return kindPassthrough, mode, ""
	case "SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL":
		if proto == "HTTPS" {
			return kindTerminateHTTP, mode, ""
		}
		return kindTerminateTCP, mode, ""
	}
	return 0, "", fmt.Sprintf("tls.mode %s is not supported (SIMPLE, MUTUAL, OPTIONAL_MUTUAL, PASSTHROUGH)", mode)
}

// checkJoin reports whether s may join port group g: one bind address per
// port, one protocol class per port, one TCP server per port, and no host
// on two TLS servers of the port.
func (b *builder) checkJoin(g *portGroup, s *serverRef) bool {
	obj := &s.gw.Object
	if bind := bindAddress(s.srv); bind != g.bind {
		b.errorf(obj, s.path+".bind", "port %d is bound to %s by %s; one bind address per port", g.port, g.bind, serverDesc(g.servers[0]))
		return false
	}
	// Every server of g has the same port class, and a TCP server is
	// alone: the first server speaks for all.
	if len(g.servers) > 0 {
		if o := g.servers[0]; o.kind.portClass() != s.kind.portClass() || s.kind == kindTCP {
			b.errorf(obj, s.path+".port", "protocol conflict on port %d: %s server, but %s is a %s server", g.port, s.kind.portClass(), serverDesc(o), o.kind.portClass())
			return false
		}
	}
	if s.kind.portClass() != "TLS" {
		return true
	}
	ok := true
	for _, h := range s.hosts {
		if o := g.hosts[h.host]; o != nil {
			// Istio silently drops the later server; an error says which.
			b.errorf(obj, s.path+".hosts", "duplicate host %q on port %d: also in %s", h.host, g.port, serverDesc(o))
			ok = false
		}
	}
	return ok
}

// join adds s to g, indexing its hosts (the first server of a host keeps it).
func (g *portGroup) join(s *serverRef) {
	g.servers = append(g.servers, s)
	if g.hosts == nil {
		g.hosts = map[string]*serverRef{}
	}
	for _, h := range s.hosts {
		if g.hosts[h.host] == nil {
			g.hosts[h.host] = s
		}
	}
}

// serverNames are the SNI names of a TLS server: its hosts other than "*"
// without the ns/ prefix, deduplicated and sorted. Envoy accepts no bare
// "*" server name: a "*" host is the catch-all chain instead (see
// hasStarHost and chainInfo.anySNI).
func (s *serverRef) serverNames() []string {
	var out []string
	for _, h := range s.hosts {
		if h.host != "*" {
			out = append(out, h.host)
		}
	}
	return sortedUnique(out)
}

// hasStarHost reports whether the server lists the host "*".
func (s *serverRef) hasStarHost() bool {
	for _, h := range s.hosts {
		if h.host == "*" {
			return true
		}
	}
	return false
}
