package props

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/model"
)

// wanted are the certificates a server's rules ask about, one per rule
// that reads the certificate: what its validation's SAN matchers accept
// (and, for an exact DNS name matched literally, the wildcard it must
// refuse), each ClientCertificatePolicy rule, and each AuthorizationPolicy
// rule on principals or on headers the gateway derives from the
// certificate. A rule's certificate also carries what the validation
// accepts, so that the handshake lets it reach the rule.
func (in *Intent) wanted(s *Server) []leafSpec {
	var out []leafSpec
	base := leafSpec{}
	if v := s.Validation; v != nil {
		for _, m := range v.SANs {
			spec, ok := sanSpec(m.Type, m.CertMatch)
			if !ok {
				continue
			}
			spec.why = fmt.Sprintf("matching subjectAltNames %s", describeMatch(m.Type, m.CertMatch))
			out = append(out, spec)
			if base.why == "" {
				base = spec
			}
			if strings.ToUpper(m.Type) == "DNS" && m.NoWildcard {
				if w, ok := wildcardOf(m.Exact); ok {
					out = append(out, leafSpec{why: "a wildcard over a literal DNS name", subject: commonName("trustgate-check-wildcard"), dns: []string{w}})
				}
			}
		}
		for _, san := range v.IstioSANs {
			spec := istioSANSpec(san)
			spec.why = "matching subjectAltNames " + san
			out = append(out, spec)
			if base.why == "" {
				base = spec
			}
		}
	}
	for _, r := range append(append([]model.CertRule{}, s.CertAllow...), s.CertDeny...) {
		if spec, ok := certRuleSpec(r); ok {
			spec.why = "matching ClientCertificatePolicy rule " + r.Name
			out = append(out, spec.with(base))
		}
	}
	for _, sp := range in.Policies {
		if !sp.appliesTo(s) {
			continue
		}
		for i, r := range sp.policy.Spec.Rules {
			if spec, ok := in.policySpec(s, r); ok {
				spec.why = fmt.Sprintf("matching AuthorizationPolicy %s/%s rule %d", sp.policy.Metadata.Namespace, sp.policy.Metadata.Name, i)
				out = append(out, spec.with(base))
			}
		}
	}
	return out
}

// with adds what the validation needs (base's SANs) to a rule's spec.
func (s leafSpec) with(base leafSpec) leafSpec {
	s.dns = append(s.dns, base.dns...)
	s.uris = append(s.uris, base.uris...)
	s.emails = append(s.emails, base.emails...)
	s.ips = append(s.ips, base.ips...)
	return s
}

// describeMatch prints a CertMatch.
func describeMatch(typ string, m model.CertMatch) string {
	switch {
	case m.Exact != "":
		return typ + " exact " + m.Exact
	case m.Prefix != "":
		return typ + " prefix " + m.Prefix
	case m.Suffix != "":
		return typ + " suffix " + m.Suffix
	}
	return typ + " regex " + m.Regex
}

// sanSpec is a certificate whose SAN of a type matches m.
func sanSpec(typ string, m model.CertMatch) (leafSpec, bool) {
	v, ok := sample(m, strings.ToUpper(typ) == "URI")
	if !ok {
		return leafSpec{}, false
	}
	spec := leafSpec{subject: commonName("trustgate-check")}
	switch strings.ToUpper(typ) {
	case "DNS":
		spec.dns = []string{v}
	case "URI":
		spec.uris = []string{v}
	case "EMAIL":
		spec.emails = []string{v}
	case "IP", "IP_ADDRESS":
		spec.ips = []string{v}
	default:
		return leafSpec{}, false
	}
	return spec, true
}

// istioSANSpec is a certificate with a Gateway subjectAltNames entry as the
// SAN its spelling suggests.
func istioSANSpec(san string) leafSpec {
	spec := leafSpec{subject: commonName("trustgate-check")}
	switch {
	case strings.Contains(san, "://") || strings.HasPrefix(san, "urn:"):
		spec.uris = []string{san}
	case net.ParseIP(san) != nil:
		spec.ips = []string{san}
	case strings.Contains(san, "@"):
		spec.emails = []string{san}
	default:
		spec.dns = []string{san}
	}
	return spec
}

// wildcardOf is "*.rest" of a name "label.rest".
func wildcardOf(name string) (string, bool) {
	_, rest, ok := strings.Cut(name, ".")
	return "*." + rest, ok && strings.Contains(rest, ".")
}

// certRuleSpec is a certificate matching every field of a rule it can
// (issuer and fingerprint are the CA's and the key's: not chosen).
func certRuleSpec(r model.CertRule) (leafSpec, bool) {
	spec := leafSpec{subject: commonName("trustgate-check")}
	set := false
	if len(r.Subject) > 0 {
		v, ok := sample(r.Subject[0], false)
		attrs, err := certs.ParseDN(v)
		if !ok || err != nil {
			return leafSpec{}, false
		}
		spec.subject, set = attrs, true
	} else if len(r.CommonName) > 0 {
		v, ok := sample(r.CommonName[0], false)
		if !ok {
			return leafSpec{}, false
		}
		spec.subject, set = commonName(v), true
	}
	for _, f := range []struct {
		ms  []model.CertMatch
		typ string
	}{{r.DNSSAN, "DNS"}, {r.URISAN, "URI"}, {r.EmailSAN, "EMAIL"}, {r.IPSAN, "IP"}} {
		if len(f.ms) == 0 {
			continue
		}
		s, ok := sanSpec(f.typ, f.ms[0])
		if !ok {
			return leafSpec{}, false
		}
		spec, set = spec.with(s), true
	}
	return spec, set
}

// policySpec is a certificate for the certificate conditions of one
// AuthorizationPolicy rule: a principal (URI SAN), and values of headers
// the gateway fills from the certificate.
func (in *Intent) policySpec(s *Server, r model.Rule) (leafSpec, bool) {
	spec := leafSpec{subject: commonName("trustgate-check")}
	set := false
	addURI := func(pattern string) {
		if v, ok := istioSample(pattern, true); ok {
			spec.uris, set = append(spec.uris, v), true
		}
	}
	for _, f := range r.From {
		if len(f.Source.Principals) > 0 {
			addURI(f.Source.Principals[0])
		}
	}
	for _, w := range r.When {
		if len(w.Values) == 0 {
			continue
		}
		if w.Key == "source.principal" {
			addURI(w.Values[0])
			continue
		}
		name, ok := strings.CutPrefix(w.Key, "request.headers[")
		if !ok {
			continue
		}
		field := in.headerField(s, strings.ToLower(strings.TrimSuffix(name, "]")))
		v, ok := istioSample(w.Values[0], field == "uriSan")
		if !ok {
			continue
		}
		switch field {
		case "subject":
			if attrs, err := certs.ParseDN(v); err == nil {
				spec.subject, set = attrs, true
			}
		case "uriSan":
			spec.uris, set = append(spec.uris, v), true
		case "dnsSan":
			spec.dns, set = append(spec.dns, v), true
		}
	}
	return spec, set
}

// headerField is what a header carries when the gateway fills it from the
// certificate ("" when it does not): an identity header of the server, or
// a VirtualService header set from one %DOWNSTREAM_PEER_...% command.
func (in *Intent) headerField(s *Server, name string) string {
	if f, ok := s.Identity[name]; ok {
		return f
	}
	expr, ok := in.Derived[name]
	if !ok {
		return ""
	}
	return peerCommand[strings.Trim(strings.TrimSpace(expr), "%")]
}

// sample is a value a CertMatch matches; uri makes a prefix or suffix
// sample an absolute URI.
func sample(m model.CertMatch, uri bool) (string, bool) {
	switch {
	case m.Exact != "":
		return m.Exact, true
	case m.Prefix != "":
		return m.Prefix + "x", true
	case m.Suffix != "" && uri && !strings.Contains(m.Suffix, "://"):
		return "spiffe://x" + m.Suffix, true
	case m.Suffix != "" && strings.HasPrefix(m.Suffix, ","):
		return "CN=x" + m.Suffix, true
	case m.Suffix != "":
		return "x" + m.Suffix, true
	case m.Regex != "":
		return regexSample(m.Regex)
	}
	return "", false
}

// istioSample is a value an Istio string pattern matches ("*", "x*",
// "*x", exact).
func istioSample(p string, uri bool) (string, bool) {
	switch {
	case p == "*" && uri:
		return "spiffe://trustgate.check/any", true
	case p == "*":
		return "trustgate-check", true
	case strings.HasSuffix(p, "*"):
		return sample(model.CertMatch{Prefix: strings.TrimSuffix(p, "*")}, uri)
	case strings.HasPrefix(p, "*"):
		return sample(model.CertMatch{Suffix: strings.TrimPrefix(p, "*")}, uri)
	}
	return p, p != ""
}

// regexSample is a string a regex matches in full, built from its syntax
// tree (the first alternative, the least repetition), checked.
func regexSample(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !writeSample(&b, re.Simplify()) {
		return "", false
	}
	full, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil || !full.MatchString(b.String()) {
		return "", false
	}
	return b.String(), true
}

// writeSample writes a shortest-ish match of a regex node.
func writeSample(b *strings.Builder, re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return false
		}
		r := re.Rune[0]
		for i := 0; i+1 < len(re.Rune); i += 2 { // prefer a letter or digit
			if lo, hi := re.Rune[i], re.Rune[i+1]; lo <= 'a' && 'a' <= hi {
				r = 'a'
				break
			}
		}
		b.WriteRune(r)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('x')
	case syntax.OpCapture, syntax.OpPlus:
		return writeSample(b, re.Sub[0])
	case syntax.OpRepeat:
		for i := 0; i < re.Min; i++ {
			if !writeSample(b, re.Sub[0]) {
				return false
			}
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !writeSample(b, s) {
				return false
			}
		}
	case syntax.OpAlternate:
		return writeSample(b, re.Sub[0])
	case syntax.OpNoMatch:
		return false
	}
	return true // empty matches, anchors, star, quest
}

// setSANs puts a spec's URIs and IPs into a template.
func setSANs(tmpl *x509.Certificate, spec leafSpec) error {
	for _, u := range spec.uris {
		p, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("URI SAN %q: %w", u, err)
		}
		tmpl.URIs = append(tmpl.URIs, p)
	}
	for _, s := range spec.ips {
		ip := net.ParseIP(s)
		if ip == nil {
			return fmt.Errorf("IP SAN %q is not an address", s)
		}
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	if tmpl.Subject.ExtraNames == nil {
		tmpl.Subject = pkix.Name{ExtraNames: commonName("trustgate-check")}
	}
	return nil
}
