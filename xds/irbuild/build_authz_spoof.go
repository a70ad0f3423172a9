package irbuild

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// Why a condition on a header the gateway derives from the connection must
// not reach RBAC as a header matcher: Envoy's RBAC filter decides in
// RoleBasedAccessControlFilter::decodeHeaders
// (source/extensions/filters/http/rbac/rbac_filter.cc) on the request
// headers as they arrived, and the route's request_headers_to_add/remove are
// applied later by the router, the last HTTP filter
// (source/common/router/router.cc, Filter::decodeHeaders calls
// route_entry_->finalizeRequestHeaders). So RBAC judges the client's own
// copy of every header a route sets: a client without a certificate sends
// `ssl-client-verify: SUCCESS` and passes. Each such condition is rewritten
// to the connection fact the header stands for, or refused.

// formatterKeys are the certificate formatters RBAC can evaluate on the
// certificate itself, and the condition key for each.
var formatterKeys = map[string]ir.ConditionKey{
	string(ir.PeerSubject):     ir.CondCertSubject,
	string(ir.PeerIssuer):      ir.CondCertIssuer,
	peerURISAN:                 ir.CondCertURISAN,
	peerDNSSAN:                 ir.CondCertDNSSAN,
	string(ir.PeerFingerprint): ir.CondCertFingerprint,
}

// soleFormatter matches a header value that is exactly one peer formatter.
var soleFormatter = regexp.MustCompile(`^%DOWNSTREAM_PEER_[A-Z0-9_]+%$`)

// xfccHeader is the header of Envoy's forward_client_cert_details.
const xfccHeader = "x-forwarded-client-cert"

// sslClientPrefix starts ingress-nginx's client-certificate headers.
const sslClientPrefix = "ssl-client-"

// Values of ssl-client-verify: a certificate was presented (and so verified
// in the handshake), or none was.
const (
	verifySuccess = "SUCCESS"
	verifyNone    = "NONE"
)

// namedHeaders are the headers whose meaning their name fixes (ingress-nginx's,
// as identityHeaders.ingressNginx sets them), wherever they are set or not.
var namedHeaders = map[string][]string{
	sslClientVerify:         {verifyNone, verifySuccess},
	"ssl-client-subject-dn": {string(ir.PeerSubject)},
	"ssl-client-issuer-dn":  {string(ir.PeerIssuer)},
}

// gatewaySetHeaders collects, per header name, the distinct values the
// route configuration sets or adds on requests, at any level.
func gatewaySetHeaders(rc *ir.RouteConfig) map[string][]string {
	out := map[string][]string{}
	if rc == nil {
		return out
	}
	for _, vh := range rc.VirtualHosts {
		for _, h := range requestHeaders(vh) {
			if !slices.Contains(out[h.Name], h.Value) {
				out[h.Name] = append(out[h.Name], h.Value)
			}
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// peerDerivedHeaders collects, across every chain of the proxy, the headers
// some route sets from the peer certificate, and ssl-client-verify: a
// condition on one of them means that fact on every chain, including one
// where the gateway leaves the client's copy alone.
func peerDerivedHeaders(chains []*chainInfo) map[string][]string {
	out := map[string][]string{}
	for _, ci := range chains {
		for name, values := range gatewaySetHeaders(ci.rc) {
			if name != sslClientVerify && !slices.ContainsFunc(values, isPeerValue) {
				continue
			}
			for _, v := range values {
				if !slices.Contains(out[name], v) {
					out[name] = append(out[name], v)
				}
			}
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// isPeerValue reports whether a header value reads the client certificate.
func isPeerValue(v string) bool { return strings.Contains(v, peerFormatterPrefix) }

// guardPeerHeaders rewrites, in one rule of ap on an HTTP chain, every
// condition on a header the gateway derives from the connection. derived is
// peerDerivedHeaders of the proxy.
func (b *builder) guardPeerHeaders(ap *model.AuthorizationPolicy, i int, r ir.AuthzRule, ci *chainInfo, derived map[string][]string) ir.AuthzRule {
	if ci.chain.HTTP == nil {
		return r // TCP: request headers do not exist (addRule drops them)
	}
	onChain := gatewaySetHeaders(ci.rc)
	out := r
	out.When = nil
	for j, c := range r.When {
		if c.Key != ir.CondRequestHeader {
			out.When = append(out.When, c)
			continue
		}
		path := fmt.Sprintf("spec.rules[%d].when[%d]", i, j)
		out.When = append(out.When, b.derivedCondition(&ap.Object, path, c, chainHeaders{ci: ci, onChain: onChain, derived: derived})...)
	}
	return out
}

// chainHeaders are the headers the gateway sets on an HTTP chain (onChain)
// and, from the client certificate, on any chain of the proxy (derived).
type chainHeaders struct {
	ci               *chainInfo
	onChain, derived map[string][]string
}

// derivedCondition is what one request-header condition becomes: itself for
// an ordinary header, the connection fact it stands for (none when that
// always holds), or nothing with an error.
func (b *builder) derivedCondition(obj *model.Object, path string, c ir.Condition, hs chainHeaders) []ir.Condition {
	ci, onChain, derived := hs.ci, hs.onChain, hs.derived
	h := c.Header
	if h == xfccHeader {
		return b.xfccCondition(obj, path, c, ci, onChain)
	}
	values, set := onChain[h]
	why := fmt.Sprintf("the gateway sets it to %s there", strings.Join(values, " and "))
	switch {
	case !set && len(derived[h]) > 0:
		values, why = derived[h], fmt.Sprintf("the gateway sets it from the client certificate (%s) on another chain of this proxy", strings.Join(derived[h], " and "))
	case !set && len(namedHeaders[h]) > 0:
		values, why = namedHeaders[h], "ingress-nginx's "+h+" names a fact of the client certificate"
	}
	nginx := strings.HasPrefix(h, sslClientPrefix)
	switch {
	case h == sslClientVerify && isVerifyValues(values):
		b.warnf(obj, path, "request.headers[%s] rewritten to whether the client presented a certificate (verified in the handshake) on chain %s: %s, and authorization runs before route header changes, so the rule would have judged the client's own copy", h, ci.chain.Name, why)
		return verifyCondition(c)
	case len(values) == 0 && nginx:
		b.errorf(obj, path, "request.headers[%s] is not set by trustgate, and as an ingress-nginx client-certificate header it would pass for a fact of the certificate while authorization judges the client's own copy; use %s, or a ClientCertificatePolicy authorization rule", h, strings.Join(slices.Sorted(maps.Keys(namedHeaders)), ", "))
		return nil
	case len(values) == 0 || (!nginx && !slices.ContainsFunc(values, isPeerValue)):
		if set {
			b.warnf(obj, path, "request.headers[%s] is set by the gateway on chain %s (to %s) only after authorization runs: the rule judges the client's own copy", h, ci.chain.Name, strings.Join(values, ", "))
		}
		return []ir.Condition{c}
	}
	key, ok := b.certKeyFor(obj, path, headerValues{header: h, chain: ci.chain.Name, values: values, why: why})
	if !ok {
		return nil
	}
	b.warnf(obj, path, "request.headers[%s] rewritten to %s on chain %s: %s, and authorization runs before route header changes, so the rule would have judged the client's own copy", h, key, ci.chain.Name, why)
	return []ir.Condition{certCondition(c, key)}
}

// headerValues are the values the gateway sets a header to on a chain, and
// why an authorization rule cannot judge the header as the client sent it.
type headerValues struct {
	header, chain string
	values        []string
	why           string
}

// certKeyFor is the certificate condition key for a header set to values:
// ok when all are the same rewritable formatter; otherwise an error.
func (b *builder) certKeyFor(obj *model.Object, path string, hv headerValues) (ir.ConditionKey, bool) {
	header, chain, values, why := hv.header, hv.chain, hv.values, hv.why
	if len(values) > 1 || !soleFormatter.MatchString(values[0]) {
		b.errorf(obj, path, "request.headers[%s] on chain %s: %s, after authorization runs: the rule would judge the client's own copy, and it cannot be rewritten to one certificate field", header, chain, why)
		return "", false
	}
	key, ok := formatterKeys[values[0]]
	if !ok {
		b.errorf(obj, path, "request.headers[%s] on chain %s: %s, after authorization runs: the rule would judge the client's own copy, and that field cannot be tested by authorization (use one of %s)", header, chain, why, strings.Join(slices.Sorted(maps.Keys(formatterKeys)), ", "))
		return "", false
	}
	return key, true
}

// certCondition moves a header condition's values onto a certificate field.
// An exact DNS SAN value stays literal, as the header would have been:
// Envoy's exact DNS SAN match would also accept a wildcard SAN covering it.
func certCondition(c ir.Condition, key ir.ConditionKey) ir.Condition {
	out := ir.Condition{Key: key, Values: c.Values, NotValues: c.NotValues}
	if key == ir.CondCertDNSSAN {
		out.Values, out.NotValues = literalExacts(c.Values), literalExacts(c.NotValues)
	}
	return out
}

// literalExacts replaces each exact match with literalDNSName.
func literalExacts(ms []ir.StringMatch) []ir.StringMatch {
	var out []ir.StringMatch
	for _, m := range ms {
		if m.Exact != "" && m == (ir.StringMatch{Exact: m.Exact}) {
			m = literalDNSName(m.Exact)
		}
		out = append(out, m)
	}
	return out
}
