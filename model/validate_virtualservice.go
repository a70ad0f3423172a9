package model

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/internal/re2size"
)

// meshGateway is Istio's name for "the sidecars"; it binds nothing on a
// gateway and is accepted so that shared VirtualServices load.
const meshGateway = "mesh"

func (v *validator) virtualService(vs *VirtualService) {
	o, sp := &vs.Object, &vs.Spec
	if len(sp.HTTP)+len(sp.TLS)+len(sp.TCP) == 0 {
		v.errorf(o, "spec", "at least one of http, tls or tcp routes is required")
	}
	if len(sp.Hosts) == 0 && (len(sp.HTTP) > 0 || len(sp.TLS) > 0) {
		v.errorf(o, "spec.hosts", "at least one host is required (only tcp-only VirtualServices may omit hosts)")
	}
	for i, h := range sp.Hosts {
		if err := checkHost(h); err != nil {
			v.errorf(o, fmt.Sprintf("spec.hosts[%d]", i), "%v", err)
		}
	}
	v.gatewayRefs(o, "spec.gateways", sp.Gateways)
	for i := range sp.HTTP {
		v.httpRoute(o, fmt.Sprintf("spec.http[%d]", i), &sp.HTTP[i])
	}
	for i := range sp.TLS {
		v.tlsRoute(vs, fmt.Sprintf("spec.tls[%d]", i), &sp.TLS[i])
	}
	for i := range sp.TCP {
		r := &sp.TCP[i]
		p := fmt.Sprintf("spec.tcp[%d]", i)
		for j := range r.Match {
			mp := fmt.Sprintf("%s.match[%d]", p, j)
			v.matchPort(o, mp+".port", r.Match[j].Port)
			v.gatewayRefs(o, mp+".gateways", r.Match[j].Gateways)
		}
		v.l4Destinations(o, p, r.Route)
	}
}

// gatewayRefs checks that each gateway reference names a Gateway.
func (v *validator) gatewayRefs(o *Object, path string, refs []string) {
	for i, ref := range refs {
		if ref == meshGateway {
			continue
		}
		v.resolveGateway(o, fmt.Sprintf("%s[%d]", path, i), ref, o.Metadata.Namespace)
	}
}

func (v *validator) matchPort(o *Object, path string, port uint32) {
	if port != 0 && !validPort(port) {
		v.errorf(o, path, "port %d is not between 1 and 65535", port)
	}
}

func (v *validator) httpRoute(o *Object, p string, r *HTTPRoute) {
	actions := 0
	for _, set := range []bool{len(r.Route) > 0, r.Redirect != nil, r.DirectResponse != nil} {
		if set {
			actions++
		}
	}
	if actions != 1 {
		v.errorf(o, p, "exactly one of route, redirect and directResponse is required")
	}
	for j := range r.Match {
		v.httpMatch(o, fmt.Sprintf("%s.match[%d]", p, j), &r.Match[j])
	}
	v.httpDestinations(o, p, r.Route)
	if r.Redirect != nil {
		v.redirect(o, p+".redirect", r.Redirect)
		if r.Rewrite != nil {
			v.errorf(o, p+".rewrite", "rewrite cannot be used with redirect")
		}
	}
	if d := r.DirectResponse; d != nil {
		v.directResponse(o, p+".directResponse", d)
	}
	if rw := r.Rewrite; rw != nil {
		if rw.URI != "" && rw.URIRegexRewrite != nil {
			v.errorf(o, p+".rewrite", "set only one of uri and uriRegexRewrite")
		}
		if rr := rw.URIRegexRewrite; rr != nil {
			if err := checkRegex(rr.Match); err != nil {
				v.errorf(o, p+".rewrite.uriRegexRewrite.match", "%v", err)
			}
		}
	}
	if r.Timeout != "0s" { // Istio: "0s" disables the timeout, as does none
		v.duration(o, p+".timeout", r.Timeout)
	}
	if rt := r.Retries; rt != nil {
		if rt.Attempts < 0 {
			v.errorf(o, p+".retries.attempts", "attempts must not be negative")
		}
		v.duration(o, p+".retries.perTryTimeout", rt.PerTryTimeout)
		v.duration(o, p+".retries.backoff", rt.Backoff)
	}
	if c := r.CorsPolicy; c != nil {
		for i, m := range c.AllowOrigins {
			v.stringMatch(o, fmt.Sprintf("%s.corsPolicy.allowOrigins[%d]", p, i), m, false)
		}
		v.duration(o, p+".corsPolicy.maxAge", c.MaxAge)
	}
	v.headers(o, p+".headers", r.Headers)
}

// duration checks an optional duration field.
func (v *validator) duration(o *Object, path, d string) {
	if d != "" {
		if err := checkDuration(d); err != nil {
			v.errorf(o, path, "%v", err)
		}
	}
}

func (v *validator) httpMatch(o *Object, p string, m *HTTPMatchRequest) {
	for _, f := range []struct {
		name string
		m    *StringMatch
	}{{"uri", m.URI}, {"scheme", m.Scheme}, {"method", m.Method}, {"authority", m.Authority}} {
		if f.m != nil {
			v.stringMatch(o, p+"."+f.name, *f.m, false)
		}
	}
	if m.URI != nil && m.URI.Regex != "" && m.IgnoreURICase {
		// The regex reaches Envoy case-folded, (?i:...), which can make
		// its RE2 program larger.
		if err := checkRegexSize(re2size.CaseFold(m.URI.Regex, true)); err != nil && checkRegexSize(m.URI.Regex) == nil {
			v.errorf(o, p+".uri.regex", "%v", withIgnoreURICase(err))
		}
	}
	for _, f := range []struct {
		name string
		ms   map[string]StringMatch
	}{{"headers", m.Headers}, {"withoutHeaders", m.WithoutHeaders}} {
		for _, name := range sortedKeys(f.ms) {
			path := p + "." + f.name + "." + name
			if err := checkHeaderName(name); err != nil {
				v.errorf(o, path, "%v", err)
			}
			// An empty match, or Istio's `regex: "*"`, tests presence.
			hm := f.ms[name]
			if hm.Regex == "*" && hm.Exact == "" && hm.Prefix == "" {
				continue
			}
			v.stringMatch(o, path, hm, true)
		}
	}
	for _, name := range sortedKeys(m.QueryParams) {
		path := p + ".queryParams." + name
		qm := m.QueryParams[name]
		if qm.Prefix != "" {
			v.errorf(o, path+".prefix", "query parameters match exact or regex only")
			continue
		}
		v.stringMatch(o, path, qm, true)
	}
	v.matchPort(o, p+".port", m.Port)
	v.gatewayRefs(o, p+".gateways", m.Gateways)
}

// stringMatch checks that exactly one of exact, prefix and regex is set
// (at most one when empty means "present"), and that a regex compiles.
func (v *validator) stringMatch(o *Object, p string, m StringMatch, emptyOK bool) {
	n := 0
	for _, s := range []string{m.Exact, m.Prefix, m.Regex} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		v.errorf(o, p, "set only one of exact, prefix and regex")
	case n == 0 && !emptyOK:
		v.errorf(o, p, "one of exact, prefix and regex is required")
	}
	if m.Regex != "" {
		if err := checkRegex(m.Regex); err != nil {
			v.errorf(o, p+".regex", "%v", err)
		}
	}
}

// httpDestinations checks weighted destinations: Istio requires weights
// summing to 100 when there are several.
func (v *validator) httpDestinations(o *Object, p string, ds []HTTPRouteDestination) {
	sum := int64(0)
	for i := range ds {
		dp := fmt.Sprintf("%s.route[%d]", p, i)
		v.destination(o, dp+".destination", &ds[i].Destination)
		v.weight(o, dp+".weight", ds[i].Weight)
		sum += int64(ds[i].Weight)
		v.headers(o, dp+".headers", ds[i].Headers)
	}
	v.weightSum(o, p+".route", len(ds), sum)
}

// l4Destinations checks a tcp or tls route's destinations.
func (v *validator) l4Destinations(o *Object, p string, ds []RouteDestination) {
	if len(ds) == 0 {
		v.errorf(o, p+".route", "at least one route destination is required")
	}
	sum := int64(0)
	for i := range ds {
		dp := fmt.Sprintf("%s.route[%d]", p, i)
		v.destination(o, dp+".destination", &ds[i].Destination)
		v.weight(o, dp+".weight", ds[i].Weight)
		sum += int64(ds[i].Weight)
	}
	v.weightSum(o, p+".route", len(ds), sum)
}

func (v *validator) weight(o *Object, path string, w int32) {
	if w < 0 {
		v.errorf(o, path, "weight must not be negative")
	}
}

func (v *validator) weightSum(o *Object, path string, n int, sum int64) {
	if n > 1 && sum != 100 {
		v.errorf(o, path, "weights of %d destinations sum to %d; they must sum to 100", n, sum)
	}
}

func (v *validator) destination(o *Object, p string, d *Destination) {
	if d.Host == "" {
		v.errorf(o, p+".host", "host is required")
	} else if err := checkHost(d.Host); err != nil {
		v.errorf(o, p+".host", "%v", err)
	}
	if d.Port != nil && d.Port.Number != 0 && !validPort(d.Port.Number) {
		v.errorf(o, p+".port.number", "port %d is not between 1 and 65535", d.Port.Number)
	}
}

func (v *validator) redirect(o *Object, p string, r *HTTPRedirect) {
	if r.URI != "" && r.PrefixRewrite != "" {
		v.errorf(o, p, "set only one of uri and prefixRewrite")
	}
	switch r.RedirectCode {
	case 0, 301, 302, 303, 307, 308:
	default:
		v.errorf(o, p+".redirectCode", "redirectCode %d is not one of 301, 302, 303, 307, 308", r.RedirectCode)
	}
	if r.Port != 0 && !validPort(r.Port) {
		v.errorf(o, p+".port", "port %d is not between 1 and 65535", r.Port)
	}
	if s := strings.ToLower(r.Scheme); s != "" && s != "http" && s != "https" {
		v.errorf(o, p+".scheme", "scheme %q is not http or https", r.Scheme)
	}
}

func (v *validator) directResponse(o *Object, p string, d *HTTPDirectResponse) {
	if d.Status < 200 || d.Status > 599 {
		v.errorf(o, p+".status", "status %d is not between 200 and 599", d.Status)
	}
	if b := d.Body; b != nil {
		if b.String != "" && b.Bytes != "" {
			v.errorf(o, p+".body", "set only one of string and bytes")
		}
		n := len(b.String)
		if b.Bytes != "" {
			raw, err := base64.StdEncoding.DecodeString(b.Bytes)
			if err != nil {
				v.errorf(o, p+".body.bytes", "bytes is not valid base64")
			}
			n = max(n, len(raw))
		}
		if err := checkBodySize(n); err != nil {
			v.errorf(o, p+".body", "%v", err)
		}
	}
}

// headers checks header operations: names, and Envoy formatter syntax in
// values (Envoy rejects the route configuration otherwise).
func (v *validator) headers(o *Object, p string, h *Headers) {
	if h == nil {
		return
	}
	for _, op := range []struct {
		name string
		ops  *HeaderOperations
	}{{"request", h.Request}, {"response", h.Response}} {
		if op.ops == nil {
			continue
		}
		hp := p + "." + op.name
		for _, set := range []struct {
			name string
			m    map[string]string
		}{{"set", op.ops.Set}, {"add", op.ops.Add}} {
			for _, k := range sortedKeys(set.m) {
				path := hp + "." + set.name + "." + k
				if err := checkHeaderName(k); err != nil {
					v.errorf(o, path, "%v", err)
				}
				if err := checkHeaderValue(set.m[k]); err != nil {
					v.errorf(o, path, "%v", err)
				}
			}
		}
		for i, k := range op.ops.Remove {
			if err := checkHeaderName(k); err != nil {
				v.errorf(o, fmt.Sprintf("%s.remove[%d]", hp, i), "%v", err)
			}
		}
	}
}

// tlsRoute checks a passthrough route: SNI hosts covered by the
// VirtualService's hosts (Istio's rule), and a destination.
func (v *validator) tlsRoute(vs *VirtualService, p string, r *TLSRoute) {
	o := &vs.Object
	if len(r.Match) == 0 {
		v.errorf(o, p+".match", "at least one match with sniHosts is required")
	}
	for j := range r.Match {
		m := &r.Match[j]
		mp := fmt.Sprintf("%s.match[%d]", p, j)
		if len(m.SNIHosts) == 0 {
			v.errorf(o, mp+".sniHosts", "at least one SNI host is required")
		}
		for k, sni := range m.SNIHosts {
			sp := fmt.Sprintf("%s.sniHosts[%d]", mp, k)
			if err := checkHost(sni); err != nil {
				v.errorf(o, sp, "%v", err)
				continue
			}
			if !coveredBy(sni, vs.Spec.Hosts) {
				v.errorf(o, sp, "SNI host %q is not covered by the VirtualService's hosts %v", sni, vs.Spec.Hosts)
			}
		}
		v.matchPort(o, mp+".port", m.Port)
		v.gatewayRefs(o, mp+".gateways", m.Gateways)
	}
	v.l4Destinations(o, p, r.Route)
}

func coveredBy(name string, hosts []string) bool {
	for _, h := range hosts {
		if hostCovers(h, name) {
			return true
		}
	}
	return false
}
