package props

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
)

// defaultSource is the client address of generated connections (TEST-NET-1).
var defaultSource = netip.MustParseAddr("192.0.2.1")

// probe is one generated connection and request.
type probe struct {
	conn envoymodel.Connection
	cert string // the client's name ("" none)
	req  envoymodel.Request
	// forged marks requests that carry client copies of identity headers.
	forged bool
}

// port generates and checks every probe of one port.
func (c *checker) port(port uint32) {
	servers := c.in.servers(port)
	tls := false
	for _, s := range servers {
		tls = tls || (s.Mode != "" && s.Mode != "PASSTHROUGH")
	}
	var names []string
	for _, s := range servers {
		names = append(names, concrete(s)...)
	}
	ow := newOwners(servers)
	names = dedupe(append(names, c.in.routeNames(ow)...))
	nr := newNear(names)
	snis := []string{""}
	if tls {
		snis = append(dedupe(append([]string{}, names...)), "unknown.invalid", "")
	}
	pt := portProbes{port: port, tls: tls, owners: ow, near: nr}
	c.each(len(snis), func(sub *checker, i int) { sub.sni(pt, snis[i]) })
}

// portProbes is what every SNI of one port probes with: the port's names
// are near's.
type portProbes struct {
	port   uint32
	tls    bool
	owners *owners
	near   *near
}

// sni generates and checks every probe of one SNI (none: "") of a port.
func (c *checker) sni(pt portProbes, sni string) {
	hosts := c.hostsFor(pt, sni)
	own := pt.owners.of(sni)
	v := c.values(own)
	for _, cl := range append([]Client{{}}, c.clientsFor(own)...) {
		for _, resumed := range []bool{false, true} {
			if resumed && (cl.Name == "" || !pt.tls) {
				continue
			}
			for _, src := range v.sources {
				conn := envoymodel.Connection{Port: pt.port, TLS: pt.tls, SNI: sni, ClientChain: cl.Chain, Resumed: resumed, SourceIP: src}
				if pt.tls {
					conn.ALPN = []string{"h2", "http/1.1"}
				}
				if !pt.tls && cl.Name != "" {
					continue
				}
				c.requests(pt.owners, probe{conn: conn, cert: cl.Name}, hosts, v)
			}
		}
	}
}

// routeNames are the names VirtualService hosts stand for that some server
// of the port serves: a route's exact host under a server's wildcard is
// probed by its own name, not only by the wildcard's stand-in.
func (in *Intent) routeNames(ow *owners) []string {
	var out []string
	for _, name := range concreteNames(in.RouteHosts) {
		if ow.of(name) != nil {
			out = append(out, name)
		}
	}
	return out
}

// values are the request values to send on a server's connections.
type values struct {
	sources        []netip.Addr
	paths, methods []string
	headerSets     [][]envoymodel.Header
}

// values are the request values for connections a server owns: without a
// bound, those of every policy; bounded, those of the policies that govern
// the server (nil: the port's catch-all connections), at most MaxValues
// of each.
func (c *checker) values(s *Server) values {
	if c.opts.MaxValues == 0 {
		return values{sources: c.in.sources(nil), paths: c.in.paths(nil), methods: c.in.methods(nil), headerSets: c.in.headerSets()}
	}
	scope := s
	if scope == nil {
		scope = &Server{}
	}
	srcs := c.in.sources(scope)
	if len(srcs) > c.opts.MaxValues {
		srcs = srcs[:c.opts.MaxValues]
	}
	return values{sources: srcs, paths: c.capped(c.in.paths(scope)), methods: c.capped(c.in.methods(scope)), headerSets: c.in.headerSets()}
}

// requests checks every request variant on one connection.
func (c *checker) requests(ow *owners, p probe, hosts []string, v values) {
	for _, host := range hosts {
		for _, path := range v.paths {
			for _, method := range v.methods {
				for i, hs := range v.headerSets {
					q := p
					q.req = envoymodel.Request{Method: method, Authority: host, Path: path, Headers: hs}
					q.forged = i == 0
					t := c.m.Explain(q.conn, q.req)
					c.probes++
					if t.ClientCertificate == envoymodel.CertValidated {
						c.validated++
					}
					c.check(ow, q, t)
				}
			}
		}
	}
}

// governs reports whether a policy is to be read for a server's request
// values: every policy without a scope (nil), else the policies that
// apply to it.
func (sp *scopedPolicy) governs(s *Server) bool { return s == nil || sp.appliesTo(s) }

// sources are the client addresses to try: the default and one inside each
// address block and value the policies name.
func (in *Intent) sources(s *Server) []netip.Addr {
	out := []netip.Addr{defaultSource}
	add := func(v string) {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked().Addr().Next())
		} else if a, err := netip.ParseAddr(v); err == nil {
			out = append(out, a)
		}
	}
	for _, sp := range in.Policies {
		if !sp.governs(s) {
			continue
		}
		for _, r := range sp.policy.Spec.Rules {
			for _, f := range r.From {
				for _, b := range append(append(append(f.Source.IPBlocks, f.Source.NotIPBlocks...), f.Source.RemoteIPBlocks...), f.Source.NotRemoteIPBlocks...) {
					add(b)
				}
			}
			for _, w := range r.When {
				if w.Key == "source.ip" || w.Key == "remote.ip" {
					for _, v := range append(append([]string{}, w.Values...), w.NotValues...) {
						add(v)
					}
				}
			}
		}
	}
	seen := map[netip.Addr]bool{}
	var uniq []netip.Addr
	for _, a := range out {
		if !seen[a] {
			seen[a] = true
			uniq = append(uniq, a)
		}
	}
	return uniq
}

// paths are "/", a path under /admin, and one path each policy path
// pattern stands for.
func (in *Intent) paths(s *Server) []string {
	out := []string{"/", "/admin/x"}
	add := func(p string) {
		switch {
		case p == "*":
		case strings.HasSuffix(p, "*"):
			out = append(out, strings.TrimSuffix(p, "*")+"x")
		case strings.HasPrefix(p, "*"):
			out = append(out, "/x"+strings.TrimPrefix(p, "*"))
		default:
			out = append(out, p)
		}
	}
	for _, sp := range in.Policies {
		if !sp.governs(s) {
			continue
		}
		for _, r := range sp.policy.Spec.Rules {
			for _, t := range r.To {
				for _, p := range append(append([]string{}, t.Operation.Paths...), t.Operation.NotPaths...) {
					add(p)
				}
			}
		}
	}
	for _, srv := range in.Servers {
		if s != nil && srv != s {
			continue
		}
		for _, r := range append(append([]model.CertRule{}, srv.CertAllow...), srv.CertDeny...) {
			for _, p := range r.Paths {
				add(p)
			}
		}
	}
	return dedupe(out)
}

// methods are GET and every method the policies name.
func (in *Intent) methods(s *Server) []string {
	out := []string{"GET"}
	for _, sp := range in.Policies {
		if !sp.governs(s) {
			continue
		}
		for _, r := range sp.policy.Spec.Rules {
			for _, t := range r.To {
				out = append(out, t.Operation.Methods...)
				out = append(out, t.Operation.NotMethods...)
			}
		}
	}
	return dedupe(out)
}

// headerSets are the request headers to send: first every identity header
// with a forged value, then the values the policies' header conditions
// want (the forgery that matters for a derived header).
func (in *Intent) headerSets() [][]envoymodel.Header {
	var forgedSet []envoymodel.Header
	for _, n := range in.identityNames() {
		forgedSet = append(forgedSet, envoymodel.Header{Name: n, Value: forged})
	}
	var wanted []envoymodel.Header
	seen := map[string]bool{}
	for _, sp := range in.Policies {
		for _, r := range sp.policy.Spec.Rules {
			for _, w := range r.When {
				name, ok := strings.CutPrefix(w.Key, "request.headers[")
				if !ok || len(w.Values) == 0 {
					continue
				}
				name = strings.ToLower(strings.TrimSuffix(name, "]"))
				if !seen[name] {
					seen[name] = true
					wanted = append(wanted, envoymodel.Header{Name: name, Value: strings.Trim(w.Values[0], "*")})
				}
			}
		}
	}
	sets := [][]envoymodel.Header{forgedSet}
	if len(wanted) > 0 {
		sets = append(sets, wanted)
	}
	return sets
}

// identityNames are every header the configuration fills from the peer
// certificate, anywhere, and x-forwarded-client-cert.
func (in *Intent) identityNames() []string {
	out := []string{"x-forwarded-client-cert"}
	for _, s := range in.Servers {
		for n := range s.Identity {
			out = append(out, n)
		}
	}
	for n := range in.Derived {
		out = append(out, n)
	}
	out = dedupe(out)
	sort.Strings(out)
	return out
}

// dedupe keeps the first of each string.
func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
