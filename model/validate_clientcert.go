package model

import (
	"fmt"
	"net/url"
	"strings"
)

// ClientCertificatePolicy enums.
var (
	sanTypes  = []string{"DNS", "URI", "EMAIL", "IP"}
	xfccModes = []string{"SANITIZE", "FORWARD_ONLY", "APPEND_FORWARD", "SANITIZE_SET", "ALWAYS_FORWARD_ONLY"}
)

// ingressNginxHeaders are the headers identityHeaders.ingressNginx adds.
var ingressNginxHeaders = []string{"ssl-client-verify", "ssl-client-subject-dn", "ssl-client-issuer-dn"}

// policyKey is what two ClientCertificatePolicies may not share: the
// Gateway ("ns/name") and section.
func policyKey(p *ClientCertificatePolicy) (gateway, section string) {
	ref := &p.Spec.TargetRef
	ns := ref.Namespace
	if ns == "" {
		ns = p.Metadata.Namespace
	}
	return ns + "/" + ref.Name, ref.SectionName
}

// gatewaySections are a Gateway's servers by the sections a policy may
// name, built once per Gateway: a policy per server of a Gateway of 10,000
// servers scanned them all for each policy (docs/performance.md).
type gatewaySections struct {
	all       []*Server            // sectionName "": every server
	bySection map[string][]*Server // each of Server.SectionNames, in order
}

// sections returns g's servers by section.
func (v *validator) sections(g *Gateway) *gatewaySections {
	if gs := v.gwSections[g]; gs != nil {
		return gs
	}
	gs := &gatewaySections{bySection: map[string][]*Server{}}
	for i := range g.Spec.Servers {
		s := &g.Spec.Servers[i]
		gs.all = append(gs.all, s)
		for _, n := range s.SectionNames() {
			if l := gs.bySection[n]; n != "" && (len(l) == 0 || l[len(l)-1] != s) {
				gs.bySection[n] = append(l, s)
			}
		}
	}
	v.gwSections[g] = gs
	return gs
}

// inSection are g's servers a sectionName names: all for "".
func (v *validator) inSection(g *Gateway, section string) []*Server {
	if section == "" {
		return v.sections(g).all
	}
	return v.sections(g).bySection[section]
}

// policyClientCA reports whether some ClientCertificatePolicy gives server
// s of g a client CA: one naming g as a whole or one of s's sections.
func (v *validator) policyClientCA(g *Gateway, s *Server) bool {
	caPolicies := v.clientCAPolicies()
	gw := g.Metadata.Namespace + "/" + g.Metadata.Name
	if caPolicies[gw+"#"] {
		return true
	}
	for _, n := range s.SectionNames() {
		if n != "" && caPolicies[gw+"#"+n] {
			return true
		}
	}
	return false
}

// clientCAPolicies are the "namespace/name#section" of the Gateways (and
// sections) a ClientCertificatePolicy gives a clientCA, built on first use.
func (v *validator) clientCAPolicies() map[string]bool {
	if v.caPolicies == nil {
		v.caPolicies = map[string]bool{}
		for _, p := range v.c.ClientCertificatePolicies {
			if p.Spec.ClientCA != "" && p.Spec.TargetRef.Kind == "Gateway" {
				gw, section := policyKey(p)
				v.caPolicies[gw+"#"+section] = true
			}
		}
	}
	return v.caPolicies
}

func tlsMode(s *Server) string {
	if s.TLS == nil {
		return ""
	}
	return strings.ToUpper(s.TLS.Mode)
}

// clientCertificatePolicies checks each policy, alone (through the memo:
// its target, the target's servers, its own fields) and against the others
// (one policy per Gateway section).
func (v *validator) clientCertificatePolicies() {
	first := map[string]*ClientCertificatePolicy{}
	for _, p := range v.c.ClientCertificatePolicies {
		o := &p.Object
		g := v.memoizedTarget(o, reads{gateways: true, creds: true}, func() *Gateway {
			v.own(o)
			g := v.targetGateway(o, "spec.targetRef", &p.Spec.TargetRef)
			if g != nil {
				v.policyServers(p, g)
			}
			v.clientCertificatePolicy(p, g)
			return g
		})
		if g == nil {
			continue
		}
		gw, section := policyKey(p)
		k := gw + "#" + section
		if f, dup := first[k]; dup {
			v.errorf(o, "spec.targetRef", "Gateway %s%s is already targeted by %s%s", gw, sectionDesc(section), f.Ref(), f.Pos.At(""))
		} else {
			first[k] = p
		}
	}
}

func sectionDesc(section string) string {
	if section == "" {
		return ""
	}
	return fmt.Sprintf(" section %q", section)
}

// policyServers checks that the policy's section names a server and that
// the servers it governs ask for client certificates.
func (v *validator) policyServers(p *ClientCertificatePolicy, g *Gateway) {
	o, section := &p.Object, p.Spec.TargetRef.SectionName
	named := v.inSection(g, section)
	var mutual []*Server
	for _, s := range named {
		if m := tlsMode(s); m == "MUTUAL" || m == "OPTIONAL_MUTUAL" {
			mutual = append(mutual, s)
		}
	}
	switch {
	case len(named) == 0:
		var names []string
		for i := range g.Spec.Servers {
			for _, n := range g.Spec.Servers[i].SectionNames() {
				if n != "" {
					names = append(names, n)
				}
			}
		}
		v.errorf(o, "spec.targetRef.sectionName", "sectionName %q names no server of Gateway %s (server or port names: %s)",
			section, g.Metadata.Namespace+"/"+g.Metadata.Name, strings.Join(names, ", "))
		return
	case len(mutual) == 0 || (section != "" && len(mutual) != len(named)):
		v.errorf(o, "spec.targetRef", "Gateway %s%s has a server without tls.mode MUTUAL or OPTIONAL_MUTUAL; client-certificate settings need one of them",
			g.Metadata.Namespace+"/"+g.Metadata.Name, sectionDesc(section))
		return
	}
	if p.Spec.Rejection == nil {
		return
	}
	for _, s := range mutual {
		if tlsMode(s) == "MUTUAL" {
			v.errorf(o, "spec.rejection", "with MUTUAL the TLS handshake fails before any HTTP response can be sent; set tls.mode: OPTIONAL_MUTUAL (server %s)", serverLabel(s))
			return
		}
	}
}

func serverLabel(s *Server) string {
	switch {
	case s.Name != "":
		return fmt.Sprintf("%q", s.Name)
	case s.Port.Name != "":
		return fmt.Sprintf("port %q", s.Port.Name)
	}
	return fmt.Sprintf("on port %d", s.Port.Number)
}

// clientCertificatePolicy checks the policy's own fields; g is its target
// (nil if it did not resolve).
func (v *validator) clientCertificatePolicy(p *ClientCertificatePolicy, g *Gateway) {
	o, sp := &p.Object, &p.Spec
	if sp.setsNothing() {
		// Nothing to apply: a typo, or a file cut short after targetRef,
		// where the settings that followed (an allow-list) are lost.
		v.errorf(o, "spec", "the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy")
	}
	if sp.ClientCA != "" {
		ns := o.Metadata.Namespace
		if g != nil {
			ns = g.Metadata.Namespace // the gateway's secrets
		}
		if _, err := v.c.ResolveCACredential(ns, sp.ClientCA); err != nil {
			v.errs.Add(o.ErrorAt("spec.clientCA", err))
		}
	}
	if d := sp.VerifyDepth; d != nil && *d > MaxVerifyDepth {
		v.errorf(o, "spec.verifyDepth", "verifyDepth %d is not between 0 and %d (the intermediates allowed between the client certificate and its trusted CA)", *d, MaxVerifyDepth)
	}
	for i := range sp.SubjectAltNames {
		san := &sp.SubjectAltNames[i]
		path := fmt.Sprintf("spec.subjectAltNames[%d]", i)
		if err := enum(san.Type, sanTypes, nil); err != nil {
			v.errorf(o, path+".type", "type %v", err)
		}
		v.certMatch(o, path, san.CertMatch, nil, strings.EqualFold(san.Type, "DNS"))
	}
	v.pins(o, "spec", sp.VerifyCertificateSpki, sp.VerifyCertificateHash)
	v.rejection(o, sp.Rejection)
	if f := sp.ForwardClientCert; f != nil && f.Mode != "" {
		if err := enum(f.Mode, xfccModes, nil); err != nil {
			v.errorf(o, "spec.forwardClientCert.mode", "mode %v", err)
		}
	}
	v.identityHeaders(o, sp.IdentityHeaders)
	v.duration(o, "spec.maxConnectionDuration", sp.MaxConnectionDuration)
	if a := sp.Authorization; a != nil {
		for i := range a.Allow {
			v.certRule(o, fmt.Sprintf("spec.authorization.allow[%d]", i), &a.Allow[i], false)
		}
		for i := range a.Deny {
			v.certRule(o, fmt.Sprintf("spec.authorization.deny[%d]", i), &a.Deny[i], true)
		}
	}
}

// certMatch checks that exactly one of exact, prefix, suffix and regex is
// set, that a regex compiles, an exact value against check if given, and
// that noWildcard goes with an exact match of a DNS SAN (dns).
func (v *validator) certMatch(o *Object, p string, m CertMatch, check func(string) error, dns bool) {
	if m.NoWildcard && (!dns || m.Exact == "") {
		v.errorf(o, p+".noWildcard", "noWildcard applies to an exact match of a DNS SAN; Envoy matches every other SAN type and match literally")
	}
	n := 0
	for _, s := range []string{m.Exact, m.Prefix, m.Suffix, m.Regex} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		v.errorf(o, p, "exactly one of exact, prefix, suffix and regex is required")
	}
	if m.Regex != "" {
		if err := checkRegex(m.Regex); err != nil {
			v.errorf(o, p+".regex", "%v", err)
		}
	}
	if m.Exact != "" && check != nil {
		if err := check(m.Exact); err != nil {
			v.errorf(o, p+".exact", "%v", err)
		}
	}
}

func (v *validator) rejection(o *Object, r *Rejection) {
	if r == nil {
		return
	}
	switch {
	case r.Status != 0 && r.Redirect != "":
		v.errorf(o, "spec.rejection", "set only one of status and redirect")
	case r.Status == 0 && r.Redirect == "":
		v.errorf(o, "spec.rejection", "one of status and redirect is required")
	}
	if r.Status != 0 && (r.Status < 200 || r.Status > 599) {
		v.errorf(o, "spec.rejection.status", "status %d is not between 200 and 599", r.Status)
	}
	if err := checkBodySize(len(r.Body)); err != nil {
		v.errorf(o, "spec.rejection.body", "%v", err)
	}
	if r.Redirect != "" {
		u, err := url.Parse(r.Redirect)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf(o, "spec.rejection.redirect", "redirect %q is not an absolute http(s) URL", r.Redirect)
		}
		if r.Body != "" {
			v.errorf(o, "spec.rejection.body", "body is sent only with status, not with redirect")
		}
	}
}

// identityHeaders checks header names: valid, not pseudo headers, distinct
// (case-insensitively, including the ingress-nginx set).
func (v *validator) identityHeaders(o *Object, h *IdentityHeaders) {
	if h == nil {
		return
	}
	seen := map[string]string{}
	if h.IngressNginx {
		for _, n := range ingressNginxHeaders {
			seen[n] = "ingressNginx"
		}
	}
	for _, f := range []struct{ field, name string }{
		{"subject", h.Subject}, {"issuer", h.Issuer}, {"uriSan", h.URISAN},
		{"dnsSan", h.DNSSAN}, {"fingerprint", h.Fingerprint}, {"serial", h.Serial},
	} {
		if f.name == "" {
			continue
		}
		path := "spec.identityHeaders." + f.field
		lower := strings.ToLower(f.name)
		switch other, dup := seen[lower]; {
		case strings.HasPrefix(f.name, ":"):
			v.errorf(o, path, "pseudo header %q cannot carry an identity", f.name)
		case lower == "x-forwarded-client-cert":
			v.errorf(o, path, "x-forwarded-client-cert is set by forwardClientCert")
		case dup:
			v.errorf(o, path, "header %q is also used by %s", f.name, other)
		default:
			if err := checkHeaderName(f.name); err != nil {
				v.errorf(o, path, "%v", err)
			}
			seen[lower] = f.field
		}
	}
}

// certRule checks an authorization rule: some certificate field to match,
// and well-formed matchers, hosts and paths. In a deny rule noWildcard is
// refused: it would narrow the rule, so that a certificate with a wildcard
// DNS SAN escapes it.
func (v *validator) certRule(o *Object, p string, r *CertRule, deny bool) {
	fields := []struct {
		name  string
		ms    []CertMatch
		check func(string) error
	}{
		{"subject", r.Subject, nil}, {"commonName", r.CommonName, nil}, {"issuer", r.Issuer, nil},
		{"fingerprint", r.Fingerprint, checkCertHash}, {"dnsSan", r.DNSSAN, nil}, {"uriSan", r.URISAN, nil},
		{"emailSan", r.EmailSAN, nil}, {"ipSan", r.IPSAN, nil},
	}
	matched := false
	for _, f := range fields {
		matched = matched || len(f.ms) > 0
		for i, m := range f.ms {
			mp := fmt.Sprintf("%s.%s[%d]", p, f.name, i)
			if deny && m.NoWildcard && f.name == "dnsSan" {
				v.errorf(o, mp+".noWildcard", "noWildcard would let a certificate whose DNS SAN is a wildcard covering %q%s escape this deny rule; leave it out", m.Exact, wildcardExample(m.Exact))
				continue
			}
			v.certMatch(o, mp, m, f.check, f.name == "dnsSan")
		}
	}
	if !matched {
		v.errorf(o, p, "rule matches no certificate field (subject, commonName, issuer, fingerprint, dnsSan, uriSan, emailSan, ipSan)")
	}
	for i, h := range r.Hosts {
		if err := checkHost(h); err != nil {
			v.errorf(o, fmt.Sprintf("%s.hosts[%d]", p, i), "%v", err)
		}
	}
	for i, path := range r.Paths {
		if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "*") {
			v.errorf(o, fmt.Sprintf("%s.paths[%d]", p, i), "path %q must start with / (or * for a suffix match)", path)
		}
	}
}

// wildcardExample names a wildcard DNS SAN that covers name, as
// " (such as *.example.com)", or "" for a single-label name.
func wildcardExample(name string) string {
	if _, rest, ok := strings.Cut(name, "."); ok && rest != "" {
		return " (such as *." + rest + ")"
	}
	return ""
}

// setsNothing reports whether a policy has no setting besides its target.
func (sp *ClientCertificatePolicySpec) setsNothing() bool {
	return sp.ClientCA == "" && sp.CRL == nil && sp.VerifyDepth == nil && len(sp.SubjectAltNames) == 0 &&
		len(sp.VerifyCertificateSpki) == 0 && len(sp.VerifyCertificateHash) == 0 && sp.Rejection == nil &&
		sp.ForwardClientCert == nil && sp.IdentityHeaders == nil && sp.MaxConnectionDuration == "" && sp.Authorization == nil
}
