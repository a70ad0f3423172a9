package props

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/model"
)

// facts are what a policy is evaluated on: the client's certificate (nil
// when it presented none), the connection and the request as the backend
// would understand it.
type facts struct {
	cert    *x509.Certificate
	sni     string
	source  netip.Addr
	port    uint32
	host    string // without port, lower case
	path    string // without query
	method  string
	headers map[string]string // lower-case names; derived headers hold the gateway's value
}

// decision is the independent evaluator's verdict: DENY rules first (any
// match denies), then, when some ALLOW policy governs the server, some ALLOW
// rule must match (an ALLOW policy without rules matches nothing). This is
// Istio's documented AuthorizationPolicy semantics, with trustgate's
// ClientCertificatePolicy authorization lists taking part as further ALLOW
// and DENY rules.
func (in *Intent) decision(s *Server, f *facts) (allowed bool, why string) {
	hasAllow := len(s.CertAllow) > 0
	for _, sp := range in.Policies {
		if !sp.appliesTo(s) {
			continue
		}
		ap := sp.policy
		switch strings.ToUpper(ap.Spec.Action) {
		case "DENY":
			for _, r := range ap.Spec.Rules {
				if ruleMatches(r, f, false) {
					return false, "DENY policy " + ap.Metadata.Name
				}
			}
		case "", "ALLOW":
			hasAllow = true
		}
	}
	for _, r := range s.CertDeny {
		if certRuleMatches(r, f) {
			return false, "ClientCertificatePolicy deny " + r.Name
		}
	}
	if !hasAllow {
		return true, "no ALLOW policy"
	}
	for _, sp := range in.Policies {
		ap := sp.policy
		if !sp.appliesTo(s) || (ap.Spec.Action != "" && strings.ToUpper(ap.Spec.Action) != "ALLOW") {
			continue
		}
		for _, r := range ap.Spec.Rules {
			if ruleMatches(r, f, true) {
				return true, "ALLOW policy " + ap.Metadata.Name
			}
		}
	}
	for _, r := range s.CertAllow {
		if certRuleMatches(r, f) {
			return true, "ClientCertificatePolicy allow " + r.Name
		}
	}
	return false, "no ALLOW rule matches"
}

// ruleMatches is one rule: some from, some to, every when. A negated
// condition on the certificate cannot be judged without one, and is read
// to fail closed: it does not match in an ALLOW rule and matches in a DENY
// rule (allow says which).
func ruleMatches(r model.Rule, f *facts, allow bool) bool {
	if len(r.From) > 0 && !anyOf(len(r.From), func(i int) bool { return sourceMatches(r.From[i].Source, f, allow) }) {
		return false
	}
	if len(r.To) > 0 && !anyOf(len(r.To), func(i int) bool { return operationMatches(r.To[i].Operation, f) }) {
		return false
	}
	for _, c := range r.When {
		if !conditionMatches(c, f, allow) {
			return false
		}
	}
	return true
}

// anyOf reports whether f holds for some index.
func anyOf(n int, f func(int) bool) bool {
	for i := 0; i < n; i++ {
		if f(i) {
			return true
		}
	}
	return false
}

// sourceMatches is a Source: fields AND-ed, values OR-ed. Principals are
// the URI SANs of the client certificate (no "spiffe://" is added).
func sourceMatches(s model.Source, f *facts, allow bool) bool {
	uris := f.uris()
	checks := []func() bool{
		func() bool { return len(s.Principals) == 0 || anyValue(s.Principals, uris) },
		func() bool { return len(s.NotPrincipals) == 0 || notCert(f, allow, !anyValue(s.NotPrincipals, uris)) },
		func() bool { return len(s.IPBlocks) == 0 || inBlocks(s.IPBlocks, f.source) },
		func() bool { return len(s.NotIPBlocks) == 0 || !inBlocks(s.NotIPBlocks, f.source) },
		func() bool { return len(s.RemoteIPBlocks) == 0 || inBlocks(s.RemoteIPBlocks, f.source) },
		func() bool { return len(s.NotRemoteIPBlocks) == 0 || !inBlocks(s.NotRemoteIPBlocks, f.source) },
	}
	for _, c := range checks {
		if !c() {
			return false
		}
	}
	return true
}

// notCert reads a negated certificate condition: without a certificate it
// fails closed.
func notCert(f *facts, allow, holds bool) bool {
	if f.cert == nil {
		return !allow
	}
	return holds
}

// operationMatches is an Operation: fields AND-ed, values OR-ed.
func operationMatches(o model.Operation, f *facts) bool {
	port := strconv.FormatUint(uint64(f.port), 10)
	checks := []func() bool{
		func() bool { return len(o.Hosts) == 0 || anyValueFold(o.Hosts, f.host) },
		func() bool { return len(o.NotHosts) == 0 || !anyValueFold(o.NotHosts, f.host) },
		func() bool { return len(o.Ports) == 0 || contains(o.Ports, port) },
		func() bool { return len(o.NotPorts) == 0 || !contains(o.NotPorts, port) },
		func() bool { return len(o.Methods) == 0 || contains(o.Methods, f.method) },
		func() bool { return len(o.NotMethods) == 0 || !contains(o.NotMethods, f.method) },
		func() bool { return len(o.Paths) == 0 || anyValue(o.Paths, []string{f.path}) },
		func() bool { return len(o.NotPaths) == 0 || !anyValue(o.NotPaths, []string{f.path}) },
	}
	for _, c := range checks {
		if !c() {
			return false
		}
	}
	return true
}

// conditionMatches is a `when` entry: some of values, none of notValues.
func conditionMatches(c model.Condition, f *facts, allow bool) bool {
	vals, certKey := f.conditionValues(c.Key)
	if len(c.Values) > 0 && !anyValue(c.Values, vals) {
		return false
	}
	if len(c.NotValues) > 0 {
		holds := !anyValue(c.NotValues, vals)
		if certKey {
			return notCert(f, allow, holds)
		}
		return holds
	}
	return true
}

// conditionValues are the values a `when` key reads, and whether the key
// reads the certificate.
func (f *facts) conditionValues(key string) ([]string, bool) {
	switch {
	case strings.HasPrefix(key, "request.headers[") && strings.HasSuffix(key, "]"):
		name := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(key, "request.headers["), "]"))
		if v, ok := f.headers[name]; ok {
			return []string{v}, false
		}
		return nil, false
	case key == "source.principal":
		return f.uris(), true
	case key == "connection.sni":
		return []string{f.sni}, false
	case key == "source.ip", key == "remote.ip":
		return []string{f.source.String()}, false
	case key == "destination.port":
		return []string{strconv.FormatUint(uint64(f.port), 10)}, false
	}
	return nil, false
}

// uris are the certificate's URI SANs.
func (f *facts) uris() []string {
	if f.cert == nil {
		return nil
	}
	var out []string
	for _, u := range f.cert.URIs {
		out = append(out, u.String())
	}
	return out
}

// anyValue reports whether a pattern matches a value, Istio's string match:
// "*" matches any non-empty value, "x*" a prefix, "*x" a suffix, else exact.
func anyValue(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if istioMatch(p, v) {
				return true
			}
		}
	}
	return false
}

// anyValueFold is anyValue ignoring case (hosts).
func anyValueFold(patterns []string, v string) bool {
	for _, p := range patterns {
		if istioMatch(strings.ToLower(p), strings.ToLower(v)) {
			return true
		}
	}
	return false
}

// istioMatch is one Istio string match.
func istioMatch(p, v string) bool {
	switch {
	case p == "*":
		return v != ""
	case strings.HasSuffix(p, "*"):
		return strings.HasPrefix(v, strings.TrimSuffix(p, "*"))
	case strings.HasPrefix(p, "*"):
		return strings.HasSuffix(v, strings.TrimPrefix(p, "*"))
	}
	return p == v
}

// contains reports exact membership.
func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// inBlocks reports whether an address is in some CIDR or equals some IP.
func inBlocks(blocks []string, a netip.Addr) bool {
	for _, b := range blocks {
		if p, err := netip.ParsePrefix(b); err == nil && p.Contains(a) {
			return true
		}
		if ip, err := netip.ParseAddr(b); err == nil && ip == a {
			return true
		}
	}
	return false
}

// certRuleMatches is a ClientCertificatePolicy rule: a certificate whose
// every given field matches (each field: any of its matchers on any of its
// values), for one of the hosts and paths when given.
func certRuleMatches(r model.CertRule, f *facts) bool {
	if f.cert == nil {
		return false
	}
	c := f.cert
	h := sha256.Sum256(c.Raw)
	sans := certSANs(c)
	fields := []struct {
		ms   []model.CertMatch
		vals []string
	}{
		{r.Subject, []string{rfc2253Subject(c)}},
		{r.CommonName, []string{c.Subject.CommonName}},
		{r.Issuer, []string{rfc2253Issuer(c)}},
		{r.Fingerprint, []string{hex.EncodeToString(h[:])}},
		{r.DNSSAN, sans["DNS"]},
		{r.URISAN, sans["URI"]},
		{r.EmailSAN, sans["EMAIL"]},
		{r.IPSAN, sans["IP"]},
	}
	for _, fl := range fields {
		if len(fl.ms) > 0 && !anyCertMatch(fl.ms, fl.vals) {
			return false
		}
	}
	if len(r.Hosts) > 0 && !anyValueFold(r.Hosts, f.host) {
		return false
	}
	return len(r.Paths) == 0 || anyValue(r.Paths, []string{f.path})
}

// anyCertMatch reports whether some matcher matches some value.
func anyCertMatch(ms []model.CertMatch, vals []string) bool {
	for _, m := range ms {
		for _, v := range vals {
			if certMatch(m, v) {
				return true
			}
		}
	}
	return false
}
