package irbuild

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// spiffePrefix is prepended to principals, as Istio does: only SPIFFE URI
// SANs can match them.
const spiffePrefix = "spiffe://"

// authzRules converts a policy's rules, named Istio's way.
func (b *builder) authzRules(ap *model.AuthorizationPolicy) []ir.AuthzRule {
	var out []ir.AuthzRule
	for i, r := range ap.Spec.Rules {
		path := fmt.Sprintf("spec.rules[%d]", i)
		rule := ir.AuthzRule{Name: fmt.Sprintf("ns[%s]-policy[%s]-rule[%d]", ap.Metadata.Namespace, ap.Metadata.Name, i)}
		for _, f := range r.From {
			rule.From = append(rule.From, source(f.Source))
		}
		for j, t := range r.To {
			rule.To = append(rule.To, b.operation(&ap.Object, fmt.Sprintf("%s.to[%d].operation", path, j), t.Operation))
		}
		for j, c := range r.When {
			if cond, ok := b.condition(&ap.Object, fmt.Sprintf("%s.when[%d]", path, j), c); ok {
				rule.When = append(rule.When, cond)
			}
		}
		out = append(out, rule)
	}
	return out
}

// source converts a rule's from.source.
func source(s model.Source) ir.Source {
	return ir.Source{
		Principals: principalMatches(s.Principals), NotPrincipals: principalMatches(s.NotPrincipals),
		IPBlocks: s.IPBlocks, NotIPBlocks: s.NotIPBlocks,
		RemoteIPBlocks: s.RemoteIPBlocks, NotRemoteIPBlocks: s.NotRemoteIPBlocks,
	}
}

// operation converts a rule's to.operation (hosts case-insensitive).
func (b *builder) operation(obj *model.Object, path string, o model.Operation) ir.Operation {
	return ir.Operation{
		Hosts: istioMatches(o.Hosts, true), NotHosts: istioMatches(o.NotHosts, true),
		Paths: istioMatches(o.Paths, false), NotPaths: istioMatches(o.NotPaths, false),
		Methods: o.Methods, NotMethods: o.NotMethods,
		Ports: b.ports(obj, path+".ports", o.Ports), NotPorts: b.ports(obj, path+".notPorts", o.NotPorts),
	}
}

// ports parses port strings.
func (b *builder) ports(obj *model.Object, path string, ps []string) []uint32 {
	var out []uint32
	for i, p := range ps {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			b.errorf(obj, fmt.Sprintf("%s[%d]", path, i), "invalid port %q", p)
			continue
		}
		out = append(out, uint32(n))
	}
	return out
}

// istioMatch is Istio's string matching for hosts, paths, header values and
// the like: "*" alone means present, "*x" a suffix, "x*" a prefix, anything
// else an exact value.
func istioMatch(v string, ignoreCase bool) ir.StringMatch {
	var m ir.StringMatch
	switch {
	case v == "*":
		return ir.StringMatch{Present: true}
	case strings.HasPrefix(v, "*"):
		m.Suffix = v[1:]
	case strings.HasSuffix(v, "*"):
		m.Prefix = v[:len(v)-1]
	default:
		m.Exact = v
	}
	m.IgnoreCase = ignoreCase
	return m
}

// istioMatches converts a list with istioMatch.
func istioMatches(vs []string, ignoreCase bool) []ir.StringMatch {
	var out []ir.StringMatch
	for _, v := range vs {
		out = append(out, istioMatch(v, ignoreCase))
	}
	return out
}

// principalMatch is Istio's principal matching against the URI SAN: Istio
// writes a SPIFFE ID without its scheme ("cluster.local/ns/a/sa/b") and
// prepends "spiffe://"; a value that already names a scheme
// ("spiffe://example.com/client", "urn://…") is matched as written, since
// outside a mesh users write full URIs. "*" means any authenticated
// principal, and a leading "*" becomes a regex anchored on the scheme so that
// only URIs of that scheme can match it.
func principalMatch(v string) ir.StringMatch {
	scheme, explicit := spiffePrefix, false
	if i := strings.Index(v, "://"); i > 0 && !strings.Contains(v[:i], "*") {
		scheme, v, explicit = v[:i+3], v[i+3:], true
	}
	switch {
	case v == "*" && !explicit:
		return ir.StringMatch{Present: true}
	case strings.HasPrefix(v, "*"):
		return ir.StringMatch{Regex: regexp.QuoteMeta(scheme) + ".*" + regexp.QuoteMeta(v[1:])}
	case strings.HasSuffix(v, "*"):
		return ir.StringMatch{Prefix: scheme + v[:len(v)-1]}
	}
	return ir.StringMatch{Exact: scheme + v}
}

// principalMatches converts a list with principalMatch.
func principalMatches(vs []string) []ir.StringMatch {
	var out []ir.StringMatch
	for _, v := range vs {
		out = append(out, principalMatch(v))
	}
	return out
}

// conditionKeys maps Istio's supported `when` keys (and trustgate's
// certificate keys) to condition keys; request.headers[…] is handled apart.
var conditionKeys = map[string]ir.ConditionKey{
	"source.principal": ir.CondSourcePrincipal, "source.ip": ir.CondSourceIP, "remote.ip": ir.CondRemoteIP,
	"connection.sni": ir.CondSNI, "destination.port": ir.CondDestinationPort,
	"cert.subject": ir.CondCertSubject, "cert.cn": ir.CondCertCN, "cert.issuer": ir.CondCertIssuer,
	"cert.fingerprint": ir.CondCertFingerprint, "cert.san.dns": ir.CondCertDNSSAN, "cert.san.uri": ir.CondCertURISAN,
	"cert.san.email": ir.CondCertEmailSAN, "cert.san.ip": ir.CondCertIPSAN,
}

// condition converts one `when` entry.
func (b *builder) condition(obj *model.Object, path string, c model.Condition) (ir.Condition, bool) {
	if name, ok := strings.CutPrefix(c.Key, "request.headers["); ok && strings.HasSuffix(name, "]") {
		name = strings.ToLower(strings.TrimSuffix(name, "]"))
		return ir.Condition{Key: ir.CondRequestHeader, Header: name,
			Values: istioMatches(c.Values, false), NotValues: istioMatches(c.NotValues, false)}, true
	}
	key, ok := conditionKeys[c.Key]
	if !ok {
		b.errorf(obj, path+".key", "key %q is not supported (request.headers[…], source.principal, source.ip, remote.ip, connection.sni, destination.port, cert.*)", c.Key)
		return ir.Condition{}, false
	}
	out := ir.Condition{Key: key}
	convert := func(vs []string) []ir.StringMatch {
		switch key {
		case ir.CondSourcePrincipal:
			return principalMatches(vs)
		case ir.CondSourceIP, ir.CondRemoteIP, ir.CondDestinationPort:
			var ms []ir.StringMatch
			for _, v := range vs {
				ms = append(ms, ir.StringMatch{Exact: v})
			}
			return ms
		}
		return istioMatches(vs, key == ir.CondSNI)
	}
	out.Values, out.NotValues = convert(c.Values), convert(c.NotValues)
	return out, true
}
