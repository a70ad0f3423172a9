package ir

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/model"
)

// formatterKeys are the certificate formatters RBAC can evaluate on the
// certificate itself, and the condition key for each.
var formatterKeys = map[string]ConditionKey{
	string(PeerSubject):     CondCertSubject,
	string(PeerIssuer):      CondCertIssuer,
	peerURISAN:              CondCertURISAN,
	peerDNSSAN:              CondCertDNSSAN,
	string(PeerFingerprint): CondCertFingerprint,
}

// soleFormatter matches a header value that is exactly one peer formatter.
var soleFormatter = regexp.MustCompile(`^%DOWNSTREAM_PEER_[A-Z0-9_]+%$`)

// gatewaySetHeaders collects, per header name, the distinct values the
// route configuration sets or adds on requests, at any level.
func gatewaySetHeaders(rc *RouteConfig) map[string][]string {
	out := map[string][]string{}
	collect := func(op HeaderOp) {
		for _, h := range append(slices.Clone(op.Set), op.Add...) {
			if !slices.Contains(out[h.Name], h.Value) {
				out[h.Name] = append(out[h.Name], h.Value)
			}
		}
	}
	for _, vh := range rc.VirtualHosts {
		collect(vh.Headers.Request)
		for _, r := range vh.Routes {
			collect(r.Headers.Request)
			if r.Forward != nil {
				for _, d := range r.Forward.Destinations {
					collect(d.Headers.Request)
				}
			}
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// guardPeerHeaders handles the Kyma case: a `when` on a request header that
// the gateway itself sets on this chain from the peer certificate. RBAC runs
// before route header mutations, so it would judge whatever the client sent
// and any holder of a CA-signed certificate could claim another subject.
// Such a condition is rewritten to the certificate field itself (with a
// warning); when that is impossible it is an error.
func (b *builder) guardPeerHeaders(ap *model.AuthorizationPolicy, i int, r AuthzRule, ci *chainInfo) AuthzRule {
	if ci.rc == nil {
		return r
	}
	set := gatewaySetHeaders(ci.rc)
	out := r
	out.When = nil
	for j, c := range r.When {
		values, ok := set[c.Header]
		if c.Key != CondRequestHeader || !ok {
			out.When = append(out.When, c)
			continue
		}
		path := fmt.Sprintf("spec.rules[%d].when[%d]", i, j)
		if key, ok := b.certKeyFor(&ap.Object, path, c.Header, values, ci); ok {
			b.warnf(&ap.Object, path, "request.headers[%s] rewritten to %s on chain %s: the gateway sets this header from the client certificate (%s) after authorization runs, so the rule would have judged the client's own copy", c.Header, key, ci.chain.Name, values[0])
			c.Key, c.Header = key, ""
		}
		out.When = append(out.When, c)
	}
	return out
}

// certKeyFor decides what to do with a condition on a header the gateway
// sets to values: ok when all are the same rewritable formatter. A header
// set to plain literals is left alone with a warning; any other mix is an
// error.
func (b *builder) certKeyFor(obj *model.Object, path, header string, values []string, ci *chainInfo) (ConditionKey, bool) {
	formatters := 0
	for _, v := range values {
		if soleFormatter.MatchString(v) {
			formatters++
		}
	}
	anyPeer := slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, peerFormatterPrefix) })
	switch {
	case !anyPeer:
		b.warnf(obj, path, "request.headers[%s] is set by the gateway on chain %s (to %s) only after authorization runs: the rule judges the client's own copy", header, ci.chain.Name, strings.Join(values, ", "))
		return "", false
	case formatters != len(values) || len(values) > 1:
		b.errorf(obj, path, "request.headers[%s] is set by the gateway on chain %s to %s after authorization runs: the rule would judge the client's own copy, and it cannot be rewritten to one certificate field", header, ci.chain.Name, strings.Join(values, " and "))
		return "", false
	}
	key, ok := formatterKeys[values[0]]
	if !ok {
		b.errorf(obj, path, "request.headers[%s] is set by the gateway on chain %s from %s after authorization runs: the rule would judge the client's own copy, and that field cannot be tested by authorization (use one of %s)", header, ci.chain.Name, values[0], strings.Join(slices.Sorted(maps.Keys(formatterKeys)), ", "))
		return "", false
	}
	return key, true
}
