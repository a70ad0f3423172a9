package irbuild

import (
	"encoding/base64"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// Istio's default retry policy (route/retry/retry.go).
const (
	defaultRetryAttempts = 2
	defaultRetryOn       = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
)

// httpRoutes are the routes vs contributes through server s: one per
// (http entry, match entry), in order, skipping matches whose gateways or
// port exclude s.
func (b *builder) httpRoutes(vs *model.VirtualService, s *serverRef) []*ir.Route {
	var out []*ir.Route
	for i := range vs.Spec.HTTP {
		h := &vs.Spec.HTTP[i]
		matches := h.Match
		if len(matches) == 0 {
			matches = []model.HTTPMatchRequest{{}}
		}
		for j := range matches {
			m := &matches[j]
			if !matchFilter(m.Gateways, m.Port, vs, s) {
				continue
			}
			if r := b.httpRoute(vs, i, j, m); r != nil {
				out = append(out, r)
			}
		}
	}
	return out
}

// httpRoute builds the route of http entry i, match j.
func (b *builder) httpRoute(vs *model.VirtualService, i, j int, m *model.HTTPMatchRequest) *ir.Route {
	h := &vs.Spec.HTTP[i]
	obj, path := &vs.Object, fmt.Sprintf("spec.http[%d]", i)
	r := &ir.Route{
		Name:  routeName(vs, h, i, m, j),
		Match: b.routeMatch(obj, fmt.Sprintf("%s.match[%d]", path, j), m),
	}
	var authority string
	r.Headers, authority = b.headerOps(obj, path+".headers", h.Headers)
	actions := 0
	if len(h.Route) > 0 {
		actions++
		r.Forward = b.forward(vs, path, h, authority)
	}
	if h.Redirect != nil {
		actions++
		r.Redirect = redirect(h.Redirect)
	}
	if h.DirectResponse != nil {
		actions++
		r.DirectResponse = b.directResponse(obj, path+".directResponse", h.DirectResponse)
	}
	if actions != 1 {
		b.errorf(obj, path, "exactly one of route, redirect and directResponse is required")
		return nil
	}
	if r.Forward == nil && (h.Rewrite != nil || authority != "") {
		b.errorf(obj, path+".rewrite", "rewrite (and a :authority header) applies only to route destinations")
	}
	r.CORS = b.cors(obj, path+".corsPolicy", h.CorsPolicy)
	return r
}

// routeName is "<vs-ns>/<vs-name>/<http name or index>/<match name or index>".
func routeName(vs *model.VirtualService, h *model.HTTPRoute, i int, m *model.HTTPMatchRequest, j int) string {
	hn, mn := h.Name, m.Name
	if hn == "" {
		hn = strconv.Itoa(i)
	}
	if mn == "" {
		mn = strconv.Itoa(j)
	}
	return vs.Metadata.Namespace + "/" + vs.Metadata.Name + "/" + hn + "/" + mn
}

// routeMatch converts one Istio match request.
func (b *builder) routeMatch(obj *model.Object, path string, m *model.HTTPMatchRequest) ir.RouteMatch {
	var rm ir.RouteMatch
	if u := m.URI; u != nil {
		rm.PathExact, rm.PathPrefix, rm.PathRegex = u.Exact, u.Prefix, u.Regex
		b.checkRegex(obj, path+".uri.regex", u.Regex)
	}
	rm.IgnoreCase = m.IgnoreURICase
	for _, pseudo := range []struct {
		name  string
		field string
		sm    *model.StringMatch
	}{{":authority", "authority", m.Authority}, {":method", "method", m.Method}, {":scheme", "scheme", m.Scheme}} {
		if pseudo.sm != nil {
			rm.Headers = append(rm.Headers, ir.HeaderMatch{Name: pseudo.name, Match: b.stringMatch(obj, path+"."+pseudo.field, *pseudo.sm)})
		}
	}
	rm.Headers = append(rm.Headers, b.headerMatches(obj, path+".headers", m.Headers, false)...)
	rm.Headers = append(rm.Headers, b.headerMatches(obj, path+".withoutHeaders", m.WithoutHeaders, true)...)
	slices.SortStableFunc(rm.Headers, func(a, b ir.HeaderMatch) int { return strings.Compare(a.Name, b.Name) })
	for _, name := range slices.Sorted(maps.Keys(m.QueryParams)) {
		rm.QueryParams = append(rm.QueryParams, ir.QueryMatch{Name: name, Match: b.stringMatch(obj, path+".queryParams."+name, m.QueryParams[name])})
	}
	return rm
}

// headerMatches converts a headers or withoutHeaders map (names lower-cased).
func (b *builder) headerMatches(obj *model.Object, path string, hs map[string]model.StringMatch, invert bool) []ir.HeaderMatch {
	var out []ir.HeaderMatch
	for _, name := range slices.Sorted(maps.Keys(hs)) {
		out = append(out, ir.HeaderMatch{Name: strings.ToLower(name), Match: b.stringMatch(obj, path+"."+name, hs[name]), Invert: invert})
	}
	return out
}

// stringMatch converts an Istio string match. As in Istio, an empty match
// and the regex "*" (not valid RE2, but written by users meaning "any
// value") both mean the header or parameter is present.
func (b *builder) stringMatch(obj *model.Object, path string, m model.StringMatch) ir.StringMatch {
	switch {
	case m.Exact != "":
		return ir.StringMatch{Exact: m.Exact}
	case m.Prefix != "":
		return ir.StringMatch{Prefix: m.Prefix}
	case m.Regex == "*" || m.Regex == "":
		return ir.StringMatch{Present: true}
	}
	b.checkRegex(obj, path+".regex", m.Regex)
	return ir.StringMatch{Regex: m.Regex}
}

// checkRegex reports a pattern Go's RE2-compatible parser rejects (Envoy
// would NACK the route configuration).
func (b *builder) checkRegex(obj *model.Object, path, re string) {
	if re == "" {
		return
	}
	if _, err := regexp.Compile(re); err != nil {
		b.errorf(obj, path, "invalid RE2 regex: %v", err)
	}
}

// forward builds the forwarding action of http entry h.
func (b *builder) forward(vs *model.VirtualService, path string, h *model.HTTPRoute, authority string) *ir.Forward {
	obj := &vs.Object
	f := &ir.Forward{Destinations: b.httpDestinations(vs, path, h, &authority)}
	if h.Timeout != "" {
		if d, err := parseDuration(h.Timeout); err != nil {
			b.errorf(obj, path+".timeout", "%v", err)
		} else if d > 0 {
			f.Timeout = &d
		}
	}
	f.Retries = b.retries(obj, path+".retries", h.Retries)
	if rw := h.Rewrite; rw != nil {
		f.PrefixRewrite = rw.URI
		if rr := rw.URIRegexRewrite; rr != nil {
			b.checkRegex(obj, path+".rewrite.uriRegexRewrite.match", rr.Match)
			f.RegexRewrite = &ir.RegexRewrite{Pattern: rr.Match, Substitution: rr.Rewrite}
		}
		if rw.Authority != "" {
			if authority != "" && authority != rw.Authority {
				b.errorf(obj, path+".rewrite.authority", "conflicts with the :authority header set to %q", authority)
			}
			authority = rw.Authority
		}
	}
	f.HostRewrite = authority
	return f
}

// httpDestinations converts the weighted destinations of h. A single
// destination gets weight 100; with several, weight 0 is dropped. A
// destination-level :authority set becomes the route's host rewrite when
// there is one destination (the IR has no per-cluster host rewrite).
func (b *builder) httpDestinations(vs *model.VirtualService, path string, h *model.HTTPRoute, authority *string) []ir.WeightedCluster {
	obj := &vs.Object
	var out []ir.WeightedCluster
	for k := range h.Route {
		d := &h.Route[k]
		dpath := fmt.Sprintf("%s.route[%d]", path, k)
		if len(h.Route) > 1 && d.Weight == 0 {
			continue
		}
		name, ok := b.cluster(vs, dpath+".destination", d.Destination)
		if !ok {
			continue
		}
		ops, auth := b.headerOps(obj, dpath+".headers", d.Headers)
		if auth != "" {
			if len(h.Route) > 1 || (*authority != "" && *authority != auth) {
				b.errorf(obj, dpath+".headers", "a destination-level :authority needs a single destination and no other :authority")
			}
			*authority = auth
		}
		w := uint32(100)
		if len(h.Route) > 1 {
			w = uint32(d.Weight)
		}
		out = append(out, ir.WeightedCluster{Cluster: name, Weight: w, Headers: ops})
	}
	if len(out) == 0 && len(h.Route) > 1 {
		b.errorf(obj, path+".route", "every destination has weight 0")
	}
	return out
}

// retries converts a retry policy; absent means Istio's default, zero
// attempts means none.
func (b *builder) retries(obj *model.Object, path string, r *model.HTTPRetry) *ir.Retry {
	if r == nil {
		return &ir.Retry{Attempts: defaultRetryAttempts, RetryOn: defaultRetryOn}
	}
	if r.Attempts < 0 {
		b.errorf(obj, path+".attempts", "must not be negative")
		return nil
	}
	if r.Attempts == 0 {
		return nil
	}
	out := &ir.Retry{Attempts: uint32(r.Attempts), RetryOn: r.RetryOn}
	if out.RetryOn == "" {
		out.RetryOn = defaultRetryOn
	}
	if r.PerTryTimeout != "" {
		d, err := parseDuration(r.PerTryTimeout)
		if err != nil {
			b.errorf(obj, path+".perTryTimeout", "%v", err)
		} else {
			out.PerTryTimeout = &d
		}
	}
	return out
}

// redirect converts an Istio redirect (code 301 by default).
func redirect(r *model.HTTPRedirect) *ir.Redirect {
	code := r.RedirectCode
	if code == 0 {
		code = 301
	}
	return &ir.Redirect{Scheme: r.Scheme, Host: r.Authority, Port: r.Port, Path: r.URI, Code: code}
}

// directResponse converts a direct response; a bytes body is base64.
func (b *builder) directResponse(obj *model.Object, path string, d *model.HTTPDirectResponse) *ir.DirectResponse {
	out := &ir.DirectResponse{Status: d.Status}
	if d.Body == nil {
		return out
	}
	out.Body = d.Body.String
	if d.Body.Bytes != "" {
		raw, err := base64.StdEncoding.DecodeString(d.Body.Bytes)
		if err != nil {
			b.errorf(obj, path+".body.bytes", "invalid base64: %v", err)
		}
		out.Body = string(raw)
	}
	return out
}

// cors converts a CORS policy.
func (b *builder) cors(obj *model.Object, path string, p *model.CorsPolicy) *ir.CORS {
	if p == nil {
		return nil
	}
	c := &ir.CORS{
		AllowMethods: p.AllowMethods, AllowHeaders: p.AllowHeaders,
		ExposeHeaders: p.ExposeHeaders, AllowCredentials: p.AllowCredentials,
	}
	for i, o := range p.AllowOrigins {
		opath := fmt.Sprintf("%s.allowOrigins[%d]", path, i)
		switch {
		case o.Exact != "":
			c.AllowOrigins = append(c.AllowOrigins, ir.StringMatch{Exact: o.Exact})
		case o.Prefix != "":
			c.AllowOrigins = append(c.AllowOrigins, ir.StringMatch{Prefix: o.Prefix})
		case o.Regex != "":
			b.checkRegex(obj, opath+".regex", o.Regex)
			c.AllowOrigins = append(c.AllowOrigins, ir.StringMatch{Regex: o.Regex})
		default:
			b.errorf(obj, opath, "one of exact, prefix and regex is required")
		}
	}
	if p.MaxAge != "" {
		if d, err := parseDuration(p.MaxAge); err != nil {
			b.errorf(obj, path+".maxAge", "%v", err)
		} else {
			c.MaxAge = &d
		}
	}
	return c
}
