package props

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"

	"github.com/trustgate/trustgate/model"
)

// Server is what one Gateway server promises, read from the configuration.
type Server struct {
	Gateway  string // namespace/name
	Index    int    // its place in spec.servers
	Name     string // the server's name, or its port's name
	Port     uint32
	Protocol string
	Hosts    []string // without "namespace/" prefixes
	Mode     string   // "" (plain), SIMPLE, MUTUAL, OPTIONAL_MUTUAL, PASSTHROUGH
	Redirect bool     // httpsRedirect
	// Validation is the client-certificate validation the server asks for
	// (MUTUAL and OPTIONAL_MUTUAL).
	Validation *Validation
	// Rejection is the answer to a request without a certificate
	// (OPTIONAL_MUTUAL with a ClientCertificatePolicy rejection).
	Rejection *model.Rejection
	// Identity are the identity headers filled from the certificate, by
	// name, with what they carry (subject, issuer, uriSan, dnsSan,
	// fingerprint, serial, verify).
	Identity map[string]string
	// CertAllow and CertDeny are the ClientCertificatePolicy authorization
	// rules.
	CertAllow, CertDeny []model.CertRule
}

// Validation is a server's client-certificate validation as configured.
type Validation struct {
	Roots    []*x509.Certificate
	CRLs     []*x509.RevocationList
	OnlyLeaf bool
	Depth    *uint32 // nginx ssl_verify_depth: intermediates allowed
	SANs     []model.SANMatcher
	// IstioSANs is Gateway tls.subjectAltNames: any SAN equal to one.
	IstioSANs []string
	SPKI      []string
	Hash      []string
	// memo remembers Accepts' verdicts (acceptance) by chain and time: a
	// Check asks about the same few chains thousands of times, from every
	// core (checker.each).
	memo sync.Map
}

// Intent is what a configuration promises one proxy group.
type Intent struct {
	Servers  []*Server
	Policies []*scopedPolicy
	// Derived are request headers a VirtualService sets or adds from the
	// peer certificate (a %DOWNSTREAM_PEER_...% value), by name, with their
	// value expression.
	Derived map[string]string
	// RouteHosts are the hosts of the VirtualServices that route on this
	// proxy, lower case: requests are sent for them too.
	RouteHosts []string
}

// scopedPolicy is an AuthorizationPolicy and the servers it governs (nil:
// all).
type scopedPolicy struct {
	policy  *model.AuthorizationPolicy
	servers map[*Server]bool
}

// appliesTo reports whether the policy governs a server.
func (p *scopedPolicy) appliesTo(s *Server) bool { return p.servers == nil || p.servers[s] }

// ReadIntent reads what the configuration promises the proxies with these
// labels.
func ReadIntent(cfg *model.Config, labels map[string]string) (*Intent, error) {
	in := &Intent{Derived: map[string]string{}}
	byGateway := map[string][]*Server{}
	for _, gw := range cfg.Gateways {
		if !labelsMatch(gw.Spec.Selector, labels) {
			continue
		}
		key := gw.Metadata.Namespace + "/" + gw.Metadata.Name
		for i := range gw.Spec.Servers {
			s, err := readServer(cfg, gw, &gw.Spec.Servers[i], i)
			if err != nil {
				return nil, fmt.Errorf("gateway %s server %d: %w", key, i, err)
			}
			in.Servers = append(in.Servers, s)
			byGateway[key] = append(byGateway[key], s)
		}
	}
	for _, p := range cfg.ClientCertificatePolicies {
		if err := applyCertPolicy(cfg, p, byGateway); err != nil {
			return nil, err
		}
	}
	for _, ap := range cfg.AuthorizationPolicies {
		if sp := scopePolicy(cfg, ap, labels, byGateway); sp != nil {
			in.Policies = append(in.Policies, sp)
		}
	}
	for _, vs := range cfg.VirtualServices {
		if !vsBound(vs, byGateway) {
			continue // its routes are built nowhere on this proxy
		}
		for _, h := range vs.Spec.Hosts {
			in.RouteHosts = append(in.RouteHosts, strings.ToLower(h))
		}
		for _, r := range vs.Spec.HTTP {
			collectDerived(in.Derived, r.Headers)
			for _, d := range r.Route {
				collectDerived(in.Derived, d.Headers)
			}
		}
	}
	return in, nil
}

// vsBound reports whether a VirtualService routes on this proxy: it names
// one of the proxy's Gateways ("name", "namespace/name" or Istio's
// "name.namespace.svc.cluster.local", in its own namespace by default) one
// of whose servers has a host that one of its hosts overlaps.
func vsBound(vs *model.VirtualService, byGateway map[string][]*Server) bool {
	for _, ref := range vs.Spec.Gateways {
		key := ref
		switch {
		case strings.HasSuffix(ref, ".svc.cluster.local"):
			parts := strings.Split(strings.TrimSuffix(ref, ".svc.cluster.local"), ".")
			if len(parts) != 2 {
				continue
			}
			key = parts[1] + "/" + parts[0]
		case !strings.Contains(ref, "/"):
			key = vs.Metadata.Namespace + "/" + ref
		}
		for _, s := range byGateway[key] {
			for _, sh := range s.Hosts {
				for _, vh := range vs.Spec.Hosts {
					if hostsOverlap(sh, strings.ToLower(vh)) {
						return true
					}
				}
			}
		}
	}
	return false
}

// hostsOverlap reports whether two Istio host patterns share a name: "*"
// overlaps everything, "*.x" every name under x and every wildcard under
// or over it.
func hostsOverlap(a, b string) bool {
	switch {
	case a == "*" || b == "*" || a == b:
		return true
	case strings.HasPrefix(a, "*.") && strings.HasSuffix(b, a[1:]):
		return true
	case strings.HasPrefix(b, "*.") && strings.HasSuffix(a, b[1:]):
		return true
	}
	return false
}

// collectDerived records request headers set from the peer certificate.
func collectDerived(out map[string]string, h *model.Headers) {
	if h == nil || h.Request == nil {
		return
	}
	for _, ops := range []map[string]string{h.Request.Set, h.Request.Add} {
		for name, v := range ops {
			if strings.Contains(v, "%DOWNSTREAM_PEER_") {
				out[strings.ToLower(name)] = v
			}
		}
	}
}

// labelsMatch reports whether every selector label is among the labels.
func labelsMatch(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// readServer reads one server and its TLS intent.
func readServer(cfg *model.Config, gw *model.Gateway, srv *model.Server, index int) (*Server, error) {
	s := &Server{
		Gateway: gw.Metadata.Namespace + "/" + gw.Metadata.Name, Index: index, Name: srv.Name,
		Port: srv.Port.Number, Protocol: strings.ToUpper(srv.Port.Protocol), Identity: map[string]string{},
	}
	if s.Name == "" {
		s.Name = srv.Port.Name
	}
	for _, h := range srv.Hosts {
		if _, host, ok := strings.Cut(h, "/"); ok {
			h = host
		}
		s.Hosts = append(s.Hosts, strings.ToLower(h))
	}
	if srv.TLS == nil {
		return s, nil
	}
	s.Redirect = srv.TLS.HTTPSRedirect
	s.Mode = strings.ToUpper(srv.TLS.Mode)
	if s.Mode == "" && (s.Protocol == "HTTPS" || s.Protocol == "TLS") {
		s.Mode = "SIMPLE"
	}
	if s.Mode != "MUTUAL" && s.Mode != "OPTIONAL_MUTUAL" {
		return s, nil
	}
	v := &Validation{IstioSANs: srv.TLS.SubjectAltNames, SPKI: srv.TLS.VerifyCertificateSpki, Hash: srv.TLS.VerifyCertificateHash}
	ca, crl, err := serverCA(cfg, gw, srv.TLS)
	if err != nil {
		return nil, err
	}
	if err := v.setMaterial(ca, crl); err != nil {
		return nil, err
	}
	s.Validation = v
	return s, nil
}

// serverCA is the client CA (and CRLs) a server names: caCertCredentialName,
// else credentialName's "-cacert" (Istio's rule), else the files.
func serverCA(cfg *model.Config, gw *model.Gateway, tls *model.ServerTLSSettings) (ca, crl []byte, err error) {
	ns := gw.Metadata.Namespace
	switch {
	case tls.CACertCredentialName != "":
		c, err := cfg.ResolveCredential(ns, tls.CACertCredentialName)
		if err != nil {
			return nil, nil, err
		}
		return c.CA, c.CRL, nil
	case tls.CredentialName != "":
		c, err := cfg.ResolveCACredential(ns, tls.CredentialName)
		if err != nil {
			return nil, nil, err
		}
		return c.CA, c.CRL, nil
	}
	ca, _ = cfg.File(&gw.Object, tls.CACertificates)
	if tls.CACrl != "" {
		crl, _ = cfg.File(&gw.Object, tls.CACrl)
	}
	return ca, crl, nil
}

// setMaterial parses a CA bundle and CRLs.
func (v *Validation) setMaterial(ca, crl []byte) error {
	v.Roots, v.CRLs = nil, nil
	v.memo.Clear()
	for blk, rest := pem.Decode(ca); blk != nil; blk, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return err
		}
		v.Roots = append(v.Roots, c)
	}
	for blk, rest := pem.Decode(crl); blk != nil; blk, rest = pem.Decode(rest) {
		l, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			return err
		}
		v.CRLs = append(v.CRLs, l)
	}
	return nil
}

// applyCertPolicy applies a ClientCertificatePolicy to the servers it
// targets (the Gateway, or one server by name or port name).
func applyCertPolicy(cfg *model.Config, p *model.ClientCertificatePolicy, byGateway map[string][]*Server) error {
	ref := p.Spec.TargetRef
	ns := ref.Namespace
	if ns == "" {
		ns = p.Metadata.Namespace
	}
	for _, s := range byGateway[ns+"/"+ref.Name] {
		if ref.SectionName != "" && ref.SectionName != s.Name {
			continue
		}
		if err := applyCertSpec(cfg, ns, &p.Spec, s); err != nil {
			return fmt.Errorf("ClientCertificatePolicy %s/%s: %w", p.Metadata.Namespace, p.Metadata.Name, err)
		}
	}
	return nil
}

// applyCertSpec applies one policy's fields to a server.
func applyCertSpec(cfg *model.Config, ns string, spec *model.ClientCertificatePolicySpec, s *Server) error {
	if v := s.Validation; v != nil {
		if spec.ClientCA != "" {
			c, err := cfg.ResolveCredential(ns, spec.ClientCA)
			if err != nil {
				return err
			}
			if err := v.setMaterial(c.CA, c.CRL); err != nil {
				return err
			}
		}
		if spec.CRL != nil {
			v.OnlyLeaf = spec.CRL.OnlyVerifyLeaf
		}
		v.Depth = spec.VerifyDepth
		v.SANs = append(v.SANs, spec.SubjectAltNames...)
		v.SPKI = append(v.SPKI, spec.VerifyCertificateSpki...)
		v.Hash = append(v.Hash, spec.VerifyCertificateHash...)
		if s.Mode == "OPTIONAL_MUTUAL" && spec.Rejection != nil {
			s.Rejection = spec.Rejection
		}
	}
	if ih := spec.IdentityHeaders; ih != nil {
		for field, name := range map[string]string{
			"subject": ih.Subject, "issuer": ih.Issuer, "uriSan": ih.URISAN,
			"dnsSan": ih.DNSSAN, "fingerprint": ih.Fingerprint, "serial": ih.Serial,
		} {
			if name != "" {
				s.Identity[strings.ToLower(name)] = field
			}
		}
		if ih.IngressNginx {
			s.Identity["ssl-client-verify"] = "verify"
			s.Identity["ssl-client-subject-dn"] = "subject"
			s.Identity["ssl-client-issuer-dn"] = "issuer"
		}
	}
	if a := spec.Authorization; a != nil {
		s.CertAllow = append(s.CertAllow, a.Allow...)
		s.CertDeny = append(s.CertDeny, a.Deny...)
	}
	return nil
}

// scopePolicy decides which servers an AuthorizationPolicy governs on this
// proxy: the targeted Gateways (targetRef/targetRefs, one server with a
// sectionName); every server when its selector's labels are the proxy's;
// with neither, every server when the policy is in the root namespace or in
// the namespace of a Gateway that applies (Istio: a policy without a
// selector covers its namespace's workloads, the root namespace the mesh).
func scopePolicy(cfg *model.Config, ap *model.AuthorizationPolicy, labels map[string]string, byGateway map[string][]*Server) *scopedPolicy {
	refs := ap.Spec.TargetRefs
	if ap.Spec.TargetRef != nil {
		refs = append([]model.PolicyTargetReference{*ap.Spec.TargetRef}, refs...)
	}
	if len(refs) > 0 {
		sp := &scopedPolicy{policy: ap, servers: map[*Server]bool{}}
		for _, ref := range refs {
			if ref.Kind != "Gateway" {
				continue
			}
			for _, s := range byGateway[ap.Metadata.Namespace+"/"+ref.Name] {
				if ref.SectionName == "" || ref.SectionName == s.Name {
					sp.servers[s] = true
				}
			}
		}
		if len(sp.servers) == 0 {
			return nil
		}
		return sp
	}
	if sel := ap.Spec.Selector; sel != nil && len(sel.MatchLabels) > 0 {
		if labelsMatch(sel.MatchLabels, labels) {
			return &scopedPolicy{policy: ap}
		}
		return nil
	}
	if ap.Metadata.Namespace == "istio-system" {
		return &scopedPolicy{policy: ap}
	}
	for key := range byGateway {
		if strings.HasPrefix(key, ap.Metadata.Namespace+"/") {
			return &scopedPolicy{policy: ap}
		}
	}
	return nil
}
