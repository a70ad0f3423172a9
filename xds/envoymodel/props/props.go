package props

import (
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
)

// check evaluates every property on one probe's trace.
func (c *checker) check(ow *owners, p probe, t *envoymodel.Trace) {
	own := ow.of(p.conn.SNI)
	if !p.conn.TLS {
		own = ow.of(hostOnly(p.req.Authority))
	}
	host := ow.of(hostOnly(p.req.Authority))
	if own != nil && t.ClientCertificate == envoymodel.CertValidated {
		c.verified[own] = true
	}
	c.mutual(p, t, host)
	about := own
	if about == nil {
		about = host
	}
	c.identity(p, t, about)
	if !t.FiltersRan || own == nil {
		return
	}
	rejected := own.Mode == "OPTIONAL_MUTUAL" && own.Rejection != nil && !t.Peer.Presented
	switch {
	case p.conn.TLS && host != own:
		c.misdirected(p, t, own, host)
	case rejected:
		c.rejection(p, t, own)
	default:
		c.authz(p, t, own)
	}
}

// hostOnly is a Host header without its port, lower case.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}

// describe renders a probe.
func describe(p probe) (conn, req string) {
	parts := []string{fmt.Sprintf("port %d", p.conn.Port)}
	if p.conn.TLS {
		sni := p.conn.SNI
		if sni == "" {
			sni = "(none)"
		}
		parts = append(parts, "SNI "+sni)
		cert := p.cert
		if cert == "" {
			cert = "none"
		}
		parts = append(parts, "certificate "+cert)
		if p.conn.Resumed {
			parts = append(parts, "resumed session")
		}
	} else {
		parts = append(parts, "plaintext")
	}
	if p.conn.SourceIP != defaultSource {
		parts = append(parts, "from "+p.conn.SourceIP.String())
	}
	req = fmt.Sprintf("%s %s Host %s", p.req.Method, p.req.Path, p.req.Authority)
	var hs []string
	for _, h := range p.req.Headers {
		hs = append(hs, h.Name+": "+h.Value)
	}
	if len(hs) > 0 {
		req += " with " + strings.Join(hs, "; ")
	}
	return strings.Join(parts, ", "), req
}

// outcome summarizes a trace.
func outcome(t *envoymodel.Trace) string {
	s := string(t.Verdict)
	if t.Status != 0 {
		s += fmt.Sprintf(" %d", t.Status)
	}
	if t.Cluster != "" {
		s += " to " + t.Cluster
	}
	if t.FilterChain != "" {
		s += " on chain " + t.FilterChain
	}
	return s
}

// finding is what one property found wrong with one probe's trace: the
// property, its deduplication key, what the configuration means, and the
// server it is about (nil: none).
type finding struct {
	prop, key, want string
	about           *Server
}

// add records a violation for a probe.
func (c *checker) add(p probe, t *envoymodel.Trace, f finding) {
	prop, key, want, about := f.prop, f.key, f.want, f.about
	conn, req := describe(p)
	v := Violation{Property: prop, Connection: conn, Request: req, Got: outcome(t), Want: want, Host: hostOnly(p.req.Authority)}
	if about != nil {
		v.Gateway, v.ServerIndex, v.Server = about.Gateway, about.Index, about.Name
	}
	c.record(key, v)
}

// mutual is P1: a request for a MUTUAL host, routed on that host's port
// over TLS, carries a certificate the host's own validation accepts.
func (c *checker) mutual(p probe, t *envoymodel.Trace, host *Server) {
	if t.Verdict != envoymodel.Routed || !p.conn.TLS || host == nil || host.Mode != "MUTUAL" || host.Validation == nil {
		return
	}
	ok, why := host.Validation.Accepts(p.conn.ClientChain, c.now)
	if ok {
		return
	}
	key := fmt.Sprintf("%s|%s|%v|%s", host.Gateway+"/"+host.Name, t.FilterChain, p.conn.Resumed, p.cert)
	c.add(p, t, finding{prop: PropMutual, key: key, want: fmt.Sprintf("no route to a backend of %s's MUTUAL host (its validation refuses the client: %s)", host.Gateway, why), about: host})
}

// identity is P2: no client-sent identity header value reaches a backend.
func (c *checker) identity(p probe, t *envoymodel.Trace, about *Server) {
	if !p.forged || t.Verdict != envoymodel.Routed {
		return
	}
	for _, cl := range t.Clusters {
		for name, v := range cl.UpstreamHeaders {
			if strings.Contains(v, forged) {
				key := fmt.Sprintf("%s|%s", name, t.FilterChain)
				c.add(p, t, finding{prop: PropIdentity, key: key, want: fmt.Sprintf("the client's %s removed before %s", name, cl.Name), about: about})
			}
		}
	}
}

// misdirected is P4 (and P5's "421, not 403"): a request on one server's
// chain for a host another server of the port serves, or none does, is
// answered 421.
func (c *checker) misdirected(p probe, t *envoymodel.Trace, own, host *Server) {
	if t.Verdict == envoymodel.DirectResponse && t.Status == 421 {
		return
	}
	// Without a certificate, an OPTIONAL_MUTUAL server's configured
	// rejection may answer first: nothing reaches a backend either way.
	if own.Rejection != nil && !t.Peer.Presented && t.Verdict == envoymodel.DirectResponse && rejectionAnswered(own.Rejection, t) {
		return
	}
	prop, whose := PropMisdirected, "no server of the port"
	if host != nil {
		whose = host.Gateway + "/" + host.Name
	}
	if t.Verdict == envoymodel.Denied {
		prop = PropRejection
	}
	key := fmt.Sprintf("%s|%s|%s", own.Gateway+"/"+own.Name, whose, t.Verdict)
	c.add(p, t, finding{prop: prop, key: key, want: fmt.Sprintf("421: the host belongs to %s, not to the chain's server %s/%s", whose, own.Gateway, own.Name), about: own})
}

// rejectionAnswered reports whether a trace is the configured rejection.
func rejectionAnswered(rej *model.Rejection, t *envoymodel.Trace) bool {
	if rej.Redirect != "" {
		return t.Status == 302 && strings.HasPrefix(t.Location, strings.TrimSuffix(rej.Redirect, "/"))
	}
	status := int(rej.Status)
	if status == 0 {
		status = 400
	}
	return t.Verdict == envoymodel.DirectResponse && t.Status == status
}

// rejection is P5: an OPTIONAL_MUTUAL host with a rejection answers a
// request without a certificate as configured.
func (c *checker) rejection(p probe, t *envoymodel.Trace, own *Server) {
	rej := own.Rejection
	if rejectionAnswered(rej, t) {
		return
	}
	want := "302 to " + rej.Redirect
	if rej.Redirect == "" {
		want = fmt.Sprint(max(rej.Status, 400))
		if rej.Status != 0 {
			want = fmt.Sprint(rej.Status)
		}
	}
	key := fmt.Sprintf("%s|%s|%d", own.Gateway+"/"+own.Name, t.Verdict, t.Status)
	c.add(p, t, finding{prop: PropRejection, key: key, want: "the configured rejection " + want, about: own})
}

// authz is P3: the RBAC verdict equals the policies' meaning.
func (c *checker) authz(p probe, t *envoymodel.Trace, own *Server) {
	f := c.facts(p, t, own)
	want, why := c.in.decision(own, f)
	denied := t.Verdict == envoymodel.Denied && t.Status == 403
	if !want && t.Verdict == envoymodel.DirectResponse && t.Status == 421 {
		// A host of the chain's own server that no VirtualService routes
		// gets the gateway's 421, which is exempt from RBAC (issue: ALLOW
		// policies turned it into 403) and reaches no backend: no policy
		// decision is made, so none can be wrong.
		return
	}
	if want == !denied {
		return
	}
	verdict := "allowed"
	if !want {
		verdict = "denied"
	}
	key := fmt.Sprintf("%s|%v|%s|%v|%s", own.Gateway+"/"+own.Name, want, why, p.conn.Resumed, p.cert)
	c.add(p, t, finding{prop: PropAuthz, key: key, want: fmt.Sprintf("%s (%s)", verdict, why), about: own})
}

// facts are what the policies read, from the probe: the certificate as
// presented (a resumed session carries the certificate of its first
// handshake), and the headers as the backend would see them (a header the
// gateway derives from the certificate has the gateway's value).
func (c *checker) facts(p probe, t *envoymodel.Trace, own *Server) *facts {
	f := &facts{sni: strings.ToLower(p.conn.SNI), source: p.conn.SourceIP, port: p.conn.Port,
		host: hostOnly(p.req.Authority), method: p.req.Method, headers: map[string]string{}}
	f.path, _, _ = strings.Cut(p.req.Path, "?")
	if t.Peer.Presented && len(p.conn.ClientChain) > 0 {
		f.cert = p.conn.ClientChain[0]
	}
	for _, h := range p.req.Headers {
		f.headers[strings.ToLower(h.Name)] = h.Value
	}
	for name, field := range own.Identity {
		delete(f.headers, name)
		if v, ok := peerValue(field, f.cert, f.cert != nil); ok {
			f.headers[name] = v
		}
	}
	for name, expr := range c.in.Derived {
		delete(f.headers, name)
		if v, ok := derivedValue(expr, f.cert); ok {
			f.headers[name] = v
		}
	}
	return f
}
