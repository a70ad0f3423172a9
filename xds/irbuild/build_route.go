package irbuild

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// Istio's default retry policy (DefaultPolicy in istio/istio pilot/pkg/
// networking/core/route/retry/retry.go): 2 attempts on connection-level
// failures, each retry on another endpoint (the previous_hosts predicate,
// up to 5 picks). Istio 1.24 dropped 503 from retriable_status_codes as
// unsafe for non-idempotent requests (istio/istio#52111, release note
// 50506), so "retriable-status-codes" stays without codes, as there.
const (
	defaultRetryAttempts      = 2
	defaultRetryOn            = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
	defaultHostSelectionRetry = 5
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
				path := "spec.http[" + strconv.Itoa(i) + "]" // not Sprintf: once per route per build
				if len(h.Match) > 0 {
					path += ".match[" + strconv.Itoa(j) + "]"
				}
				b.routeOrigin[r] = routeFrom{vs: vs, path: path}
				out = append(out, r)
			}
		}
	}
	return out
}

// httpRoute builds the route of http entry i, match j.
func (b *builder) httpRoute(vs *model.VirtualService, i, j int, m *model.HTTPMatchRequest) *ir.Route {
	h := &vs.Spec.HTTP[i]
	obj, path := &vs.Object, "spec.http["+strconv.Itoa(i)+"]"
	r := &ir.Route{
		Name:  routeName(vs, h, i, m, j),
		Match: b.routeMatch(obj, path+".match["+strconv.Itoa(j)+"]", m),
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
	// The length checks only skip work (a path and an iterator each) for
	// the usual match without headers or query parameters.
	if len(m.Headers) > 0 {
		rm.Headers = append(rm.Headers, b.headerMatches(obj, path+".headers", m.Headers, false)...)
	}
	if len(m.WithoutHeaders) > 0 {
		rm.Headers = append(rm.Headers, b.headerMatches(obj, path+".withoutHeaders", m.WithoutHeaders, true)...)
	}
	slices.SortStableFunc(rm.Headers, func(a, b ir.HeaderMatch) int { return strings.Compare(a.Name, b.Name) })
	if len(m.QueryParams) > 0 {
		for _, name := range slices.Sorted(maps.Keys(m.QueryParams)) {
			rm.QueryParams = append(rm.QueryParams, ir.QueryMatch{Name: name, Match: b.stringMatch(obj, path+".queryParams."+name, m.QueryParams[name])})
		}
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
	f.HashPolicies = b.hashPolicies(f.Destinations)
	if h.Timeout != "" {
		if d, err := parseDuration(h.Timeout); err != nil {
			b.errorf(obj, path+".timeout", "%v", err)
		} else if d > 0 {
			f.Timeout = &d
		}
	}
	f.Retries = b.retries(obj, path+".retries", h.Retries, len(f.HashPolicies) > 0)
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
		dpath := path + ".route[" + strconv.Itoa(k) + "]" // not Sprintf: once per destination per build
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

// retries converts a retry policy as Istio's ConvertPolicy does: absent
// means Istio's default, zero attempts means none; a given policy keeps the
// default's previous_hosts predicate unless retryIgnorePreviousHosts is
// false, and status codes in retryOn become retriable_status_codes.
//
// With a consistent hash, retries stay on the hashed endpoint unless
// retryIgnorePreviousHosts says otherwise (DefaultConsistentHashPolicy).
func (b *builder) retries(obj *model.Object, path string, r *model.HTTPRetry, hashed bool) *ir.Retry {
	out := &ir.Retry{Attempts: defaultRetryAttempts, RetryOn: defaultRetryOn, PreviousHosts: !hashed, HostSelectionMaxAttempts: defaultHostSelectionRetry}
	if r == nil {
		return out
	}
	if r.Attempts < 0 {
		b.errorf(obj, path+".attempts", "must not be negative")
		return nil
	}
	if r.Attempts == 0 {
		return nil
	}
	out.Attempts = uint32(r.Attempts)
	if r.RetryOn != "" {
		out.RetryOn, out.RetriableStatusCodes = parseRetryOn(r.RetryOn)
	}
	if r.RetryIgnorePreviousHosts != nil {
		out.PreviousHosts = *r.RetryIgnorePreviousHosts
	}
	out.PerTryTimeout = b.optDuration(obj, path+".perTryTimeout", r.PerTryTimeout)
	out.BackoffBase = b.optDuration(obj, path+".backoff", r.Backoff)
	return out
}

// parseRetryOn splits Istio's retryOn into Envoy's retry_on and the HTTP
// status codes in it, adding "retriable-status-codes" when codes are given
// (parseRetryOn in Istio's retry.go).
func parseRetryOn(s string) (string, []uint32) {
	var on []string
	var codes []uint32
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if n, err := strconv.Atoi(part); err == nil && http.StatusText(n) != "" {
			codes = append(codes, uint32(n))
			continue
		}
		on = append(on, part)
	}
	if len(codes) > 0 && !slices.Contains(on, "retriable-status-codes") {
		on = append(on, "retriable-status-codes")
	}
	return strings.Join(on, ","), codes
}

// optDuration parses an optional duration field; nil when unset or wrong
// (reported).
func (b *builder) optDuration(obj *model.Object, path, s string) *time.Duration {
	if s == "" {
		return nil
	}
	d, err := parseDuration(s)
	if err != nil {
		b.errorf(obj, path, "%v", err)
		return nil
	}
	return &d
}

// redirect converts an Istio redirect (code 301 by default).
func redirect(r *model.HTTPRedirect) *ir.Redirect {
	code := r.RedirectCode
	if code == 0 {
		code = 301
	}
	return &ir.Redirect{Scheme: r.Scheme, Host: r.Authority, Port: r.Port, Path: r.URI, PrefixRewrite: r.PrefixRewrite, Code: code}
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

// hashPolicies are the hash keys of the destinations' consistent-hash
// policies, each once, in destination order (Istio appends one per
// destination).
func (b *builder) hashPolicies(ds []ir.WeightedCluster) []ir.HashPolicy {
	var out []ir.HashPolicy
	for _, d := range ds {
		h := b.destPolicy[d.Cluster].hash
		if h != nil && !slices.ContainsFunc(out, func(o ir.HashPolicy) bool { return reflect.DeepEqual(o, *h) }) {
			out = append(out, *h)
		}
	}
	return out
}
