package envoymodel

import (
	"fmt"
	"sort"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// findVirtualHost is RouteMatcher::findVirtualHost
// (source/common/router/config_impl.cc): the Host (port dropped when
// ignore_port_in_host_matching), lower-cased, against exact domains, then
// suffix wildcards "*x" longest first, then prefix wildcards "x*" longest
// first (a wildcard must be shorter than the host: "*.foo.com" does not
// match ".foo.com"), then "*".
func findVirtualHost(rc *routev3.RouteConfiguration, authority string) (*routev3.VirtualHost, string) {
	host := authority
	if rc.GetIgnorePortInHostMatching() {
		if i := portStart(host); i >= 0 {
			host = host[:i]
		}
	}
	host = asciiLower(host)
	type wild struct {
		key string
		vh  *routev3.VirtualHost
	}
	var suffixes, prefixes []wild
	var fallback *routev3.VirtualHost
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			d = asciiLower(d)
			switch {
			case d == "*":
				fallback = vh
			case strings.HasPrefix(d, "*"):
				suffixes = append(suffixes, wild{d[1:], vh})
			case strings.HasSuffix(d, "*"):
				prefixes = append(prefixes, wild{d[:len(d)-1], vh})
			case d == host:
				return vh, fmt.Sprintf("exact domain %q", d)
			}
		}
	}
	longestFirst := func(ws []wild) {
		sort.SliceStable(ws, func(i, j int) bool { return len(ws[i].key) > len(ws[j].key) })
	}
	longestFirst(suffixes)
	longestFirst(prefixes)
	for _, w := range suffixes {
		if len(w.key) < len(host) && strings.HasSuffix(host, w.key) {
			return w.vh, fmt.Sprintf("wildcard domain %q", "*"+w.key)
		}
	}
	for _, w := range prefixes {
		if len(w.key) < len(host) && strings.HasPrefix(host, w.key) {
			return w.vh, fmt.Sprintf("wildcard domain %q", w.key+"*")
		}
	}
	if fallback != nil {
		return fallback, `domain "*"`
	}
	return nil, ""
}

// portStart is HeaderUtility::getPortStart: the index of the ':' before a
// port, or -1 (an IPv6 literal's colons inside [] are not a port).
func portStart(host string) int {
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return -1
	}
	if j := strings.LastIndexByte(host, ']'); j >= 0 && j > i {
		return -1
	}
	return i
}

// routeResult is the route a request matched, or the SSL redirect.
type routeResult struct {
	route       *routev3.Route
	sslRedirect bool
	why         string
}

// findRoute is VirtualHostImpl::getRouteFromEntries: the TLS requirement
// first (require_tls answers a non-https request with a redirect), then the
// first route whose match holds (RouteEntryImplBase::matchRoute: headers,
// query parameters, tls_context, then the path).
func (m *Model) findRoute(vh *routev3.VirtualHost, h *headerMap, p Peer) routeResult {
	xfp, _ := h.get("x-forwarded-proto")
	if vh.GetRequireTls() != routev3.VirtualHost_NONE && xfp != "https" {
		return routeResult{sslRedirect: true, why: "require_tls: a request not over TLS is redirected to https"}
	}
	for _, r := range vh.GetRoutes() {
		if ok, _ := m.matchRoute(r.GetMatch(), h, p); ok {
			return routeResult{route: r, why: describeRouteMatch(r.GetMatch())}
		}
	}
	return routeResult{}
}

// matchRoute evaluates one route match; the string says what failed.
func (m *Model) matchRoute(rm *routev3.RouteMatch, h *headerMap, p Peer) (bool, string) {
	for _, hm := range rm.GetHeaders() {
		if !m.matchHeader(hm, h) {
			return false, describeHeaderMatcher(hm)
		}
	}
	path, _ := h.get(":path")
	if !m.matchQuery(rm.GetQueryParameters(), path) {
		return false, "query parameters"
	}
	// evaluateTlsContextMatch: presented and validated as the connection
	// reports them.
	if tc := rm.GetTlsContext(); tc != nil {
		if tc.GetPresented() != nil && tc.GetPresented().GetValue() != p.Presented {
			return false, "tls_context.presented"
		}
		if tc.GetValidated() != nil && tc.GetValidated().GetValue() != p.Validated {
			return false, "tls_context.validated"
		}
	}
	return m.matchPath(rm, removeQueryAndFragment(path)), "path"
}

// matchPath matches the path without query and fragment
// (Matchers::PathMatcher::match uses PathUtil::removeQueryAndFragment);
// case_sensitive (default true) applies to prefix and path, not to
// safe_regex.
func (m *Model) matchPath(rm *routev3.RouteMatch, path string) bool {
	fold := rm.GetCaseSensitive() != nil && !rm.GetCaseSensitive().GetValue()
	norm := func(s string) string {
		if fold {
			return asciiLower(s)
		}
		return s
	}
	switch ps := rm.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return strings.HasPrefix(norm(path), norm(ps.Prefix))
	case *routev3.RouteMatch_Path:
		return norm(path) == norm(ps.Path)
	case *routev3.RouteMatch_SafeRegex:
		return m.fullMatch(ps.SafeRegex.GetRegex(), path)
	case *routev3.RouteMatch_PathSeparatedPrefix:
		pre := norm(ps.PathSeparatedPrefix)
		return norm(path) == pre || strings.HasPrefix(norm(path), pre+"/")
	}
	return false
}

// matchQuery is ConfigUtility::matchQueryParams: every matcher holds on the
// parameter's first value (the query is not percent-decoded).
func (m *Model) matchQuery(qs []*routev3.QueryParameterMatcher, path string) bool {
	if len(qs) == 0 {
		return true
	}
	params := parseQuery(path)
	for _, q := range qs {
		v, ok := params[q.GetName()]
		switch {
		case !ok:
			return false
		case q.GetPresentMatch():
		case q.GetStringMatch() != nil && !m.matchString(q.GetStringMatch(), v):
			return false
		}
	}
	return true
}

// parseQuery is QueryParamsMulti::parseQueryString keeping each first value.
func parseQuery(path string) map[string]string {
	out := map[string]string{}
	_, q, ok := strings.Cut(path, "?")
	if !ok {
		return out
	}
	q, _, _ = strings.Cut(q, "#")
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if _, seen := out[k]; !seen {
			out[k] = v
		}
	}
	return out
}

// removeQueryAndFragment is PathUtil::removeQueryAndFragment.
func removeQueryAndFragment(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		return path[:i]
	}
	return path
}

// describeRouteMatch renders a route match for a trace.
func describeRouteMatch(rm *routev3.RouteMatch) string {
	var parts []string
	switch ps := rm.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		parts = append(parts, fmt.Sprintf("prefix %q", ps.Prefix))
	case *routev3.RouteMatch_Path:
		parts = append(parts, fmt.Sprintf("path %q", ps.Path))
	case *routev3.RouteMatch_SafeRegex:
		parts = append(parts, fmt.Sprintf("regex %q", ps.SafeRegex.GetRegex()))
	case *routev3.RouteMatch_PathSeparatedPrefix:
		parts = append(parts, fmt.Sprintf("path-separated prefix %q", ps.PathSeparatedPrefix))
	}
	for _, h := range rm.GetHeaders() {
		parts = append(parts, describeHeaderMatcher(h))
	}
	if tc := rm.GetTlsContext(); tc != nil {
		if tc.GetPresented() != nil {
			parts = append(parts, fmt.Sprintf("certificate presented=%v", tc.GetPresented().GetValue()))
		}
		if tc.GetValidated() != nil {
			parts = append(parts, fmt.Sprintf("certificate validated=%v", tc.GetValidated().GetValue()))
		}
	}
	return strings.Join(parts, ", ")
}
