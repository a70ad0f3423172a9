package envoymodel

import (
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// router is the router filter (source/common/router/router.cc,
// Filter::decodeHeaders): no route is a 404; the TLS redirect, redirects
// and direct responses answer locally; a forwarding route picks its
// cluster(s) and finalizes the request headers.
func (r *run) router(sel selection, h *headerMap) {
	const src = "source/common/router/router.cc, Filter::decodeHeaders"
	switch {
	case sel.ssl:
		host, _ := h.get(":authority")
		path, _ := h.get(":path")
		r.t.Location = "https://" + host + path
		r.end(DirectResponse, 301, "require_tls: redirected to https")
	case sel.route == nil:
		r.end(DirectResponse, 404, "no route matches: the router answers 404 (response flag NR)")
	default:
		switch a := sel.route.GetAction().(type) {
		case *routev3.Route_DirectResponse:
			body, _ := dataSource(a.DirectResponse.GetBody())
			r.t.Body = string(body)
			r.end(DirectResponse, int(a.DirectResponse.GetStatus()), fmt.Sprintf("route %q answers directly with %d", sel.route.GetName(), a.DirectResponse.GetStatus()))
		case *routev3.Route_Redirect:
			r.t.Location = redirectLocation(a.Redirect, h)
			r.end(DirectResponse, redirectStatus(a.Redirect), fmt.Sprintf("route %q redirects to %s", sel.route.GetName(), r.t.Location))
		case *routev3.Route_Route:
			r.forward(sel, a.Route, h)
			return
		}
	}
	r.step("router", src, "%s", r.t.Reason)
}

// forward finalizes the request for every cluster the route may pick.
func (r *run) forward(sel selection, a *routev3.RouteAction, h *headerMap) {
	if a.GetCluster() != "" {
		out := r.finalize(sel, a, nil, h).flat()
		r.t.Clusters = []ClusterChoice{r.clusterChoice(a.GetCluster(), 1, out)}
	}
	for _, w := range a.GetWeightedClusters().GetClusters() {
		out := r.finalize(sel, a, w, h).flat()
		r.t.Clusters = append(r.t.Clusters, r.clusterChoice(w.GetName(), w.GetWeight().GetValue(), out))
	}
	r.pickCluster()
	var live []ClusterChoice
	for _, c := range r.t.Clusters {
		if !c.Missing {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		r.end(DirectResponse, 503, fmt.Sprintf("cluster %s does not exist: the router answers 503 (cluster_not_found_response_code)", clusterList(r.t.Clusters)))
		return
	}
	r.end(Routed, 0, fmt.Sprintf("route %q forwards to %s", sel.route.GetName(), clusterList(r.t.Clusters)))
	r.step("router", "source/common/router/router.cc, Filter::decodeHeaders", "%s", r.t.Reason)
}

// finalize applies the request header mutations for one cluster choice, in
// Envoy's order: the weighted cluster's own (WeightedClusterEntry::
// finalizeRequestHeaders), then the route's, the virtual host's and the
// route configuration's (RouteEntryImplBase::finalizeRequestHeaders:
// most specific first unless most_specific_header_mutations_wins), then
// the host and path rewrites.
func (r *run) finalize(sel selection, a *routev3.RouteAction, w *routev3.WeightedCluster_ClusterWeight, in *headerMap) *headerMap {
	h := in.clone()
	ctx := r.formatContext(h)
	levels := []headerOps{
		{"route " + sel.route.GetName(), sel.route.GetRequestHeadersToAdd(), sel.route.GetRequestHeadersToRemove()},
		{"virtual host " + sel.vh.GetName(), sel.vh.GetRequestHeadersToAdd(), sel.vh.GetRequestHeadersToRemove()},
		{"route configuration " + sel.rc.GetName(), sel.rc.GetRequestHeadersToAdd(), sel.rc.GetRequestHeadersToRemove()},
	}
	if sel.rc.GetMostSpecificHeaderMutationsWins() {
		levels[0], levels[2] = levels[2], levels[0]
	}
	if w != nil {
		levels = append([]headerOps{{"weighted cluster " + w.GetName(), w.GetRequestHeadersToAdd(), w.GetRequestHeadersToRemove()}}, levels...)
	}
	const src = "source/common/router/header_parser.cc, HeaderParser::evaluateHeaders"
	for _, l := range levels {
		if l.empty() {
			continue
		}
		for _, note := range r.m.evaluateHeaders(l, h, ctx) {
			r.step("headers", src, "%s: %s", l.level, note)
		}
	}
	if w.GetHostRewriteLiteral() != "" {
		h.set(":authority", w.GetHostRewriteLiteral())
	}
	if a.GetHostRewriteLiteral() != "" {
		h.set(":authority", a.GetHostRewriteLiteral())
	}
	r.rewritePath(sel.route.GetMatch(), a, h)
	return h
}

// rewritePath is currentUrlPathAfterRewriteWithMatchedPath: prefix_rewrite
// replaces what the route matched: the prefix, the whole path of a path
// match, or the whole path without its query for a safe_regex match
// (RegexRouteEntryImpl::currentUrlPathAfterRewrite); regex_rewrite replaces
// every match in the path without its query.
func (r *run) rewritePath(rm *routev3.RouteMatch, a *routev3.RouteAction, h *headerMap) {
	path, _ := h.get(":path")
	switch {
	case a.GetPrefixRewrite() != "":
		matched := rm.GetPrefix()
		switch {
		case rm.GetPath() != "":
			matched = rm.GetPath()
		case rm.GetSafeRegex() != nil:
			matched = removeQueryAndFragment(path)
		case rm.GetPathSeparatedPrefix() != "":
			matched = rm.GetPathSeparatedPrefix()
		}
		if len(matched) <= len(path) {
			h.set(":path", a.GetPrefixRewrite()+path[len(matched):])
		}
	case a.GetRegexRewrite() != nil:
		rr := a.GetRegexRewrite()
		only := removeQueryAndFragment(path)
		out := r.m.compiledRegex(bareKey+rr.GetPattern().GetRegex()).ReplaceAllString(only, re2Substitution(rr.GetSubstitution()))
		if out != "" {
			h.set(":path", out+path[len(only):])
		}
	}
}

// re2Substitution turns RE2's \1 group references into Go's ${1}.
func re2Substitution(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
			continue
		}
		if s[i] == '$' {
			b.WriteString("$$")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// redirectStatus is a redirect's status code (301 by default).
func redirectStatus(rd *routev3.RedirectAction) int {
	return map[routev3.RedirectAction_RedirectResponseCode]int{
		routev3.RedirectAction_MOVED_PERMANENTLY: 301, routev3.RedirectAction_FOUND: 302,
		routev3.RedirectAction_SEE_OTHER: 303, routev3.RedirectAction_TEMPORARY_REDIRECT: 307,
		routev3.RedirectAction_PERMANENT_REDIRECT: 308,
	}[rd.GetResponseCode()]
}

// redirectLocation is Http::Utility::newUri for a redirect: scheme, host,
// port and path replaced as configured, the rest from the request.
func redirectLocation(rd *routev3.RedirectAction, h *headerMap) string {
	scheme, _ := h.get("x-forwarded-proto")
	if s := rd.GetSchemeRedirect(); s != "" {
		scheme = s
	}
	if rd.GetHttpsRedirect() {
		scheme = "https"
	}
	host, _ := h.get(":authority")
	if rd.GetHostRedirect() != "" {
		host = rd.GetHostRedirect()
	}
	if rd.GetPortRedirect() != 0 {
		if i := portStart(host); i >= 0 {
			host = host[:i]
		}
		host += ":" + strconv.Itoa(int(rd.GetPortRedirect()))
	}
	path, _ := h.get(":path")
	switch {
	case rd.GetPathRedirect() != "":
		path = rd.GetPathRedirect()
	case rd.GetPrefixRewrite() != "":
		path = rd.GetPrefixRewrite() + strings.TrimPrefix(path, "/")
	}
	if rd.GetStripQuery() {
		path = removeQueryAndFragment(path)
	}
	return scheme + "://" + host + path
}

// clusterChoice describes one cluster the request may go to.
func (r *run) clusterChoice(name string, weight uint32, headers map[string]string) ClusterChoice {
	c := ClusterChoice{Name: name, Weight: weight, UpstreamHeaders: headers}
	cl, ok := r.m.clusters[name]
	if !ok {
		c.Missing = true
		return c
	}
	c.UpstreamTLS = r.m.upstreamTLS(cl.GetTransportSocket())
	return c
}

// pickCluster sets the trace's cluster: the first with a positive weight
// (all are listed in Clusters).
func (r *run) pickCluster() {
	for _, c := range r.t.Clusters {
		if c.Weight > 0 && !c.Missing {
			r.t.Cluster = c.Name
			if c.UpstreamHeaders != nil {
				r.t.UpstreamHeaders = c.UpstreamHeaders
			}
			return
		}
	}
}

// clusterList names clusters and weights.
func clusterList(cs []ClusterChoice) string {
	var parts []string
	for _, c := range cs {
		s := c.Name
		if len(cs) > 1 {
			s += fmt.Sprintf(" (weight %d)", c.Weight)
		}
		if c.Missing {
			s += " (missing)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// upstreamTLS reads a cluster's UpstreamTlsContext: the SNI sent, whether
// the backend is verified (only with a trusted CA: DefaultCertValidator
// verifies nothing without one), the SAN matchers and the client
// certificate.
func (m *Model) upstreamTLS(ts *corev3.TransportSocket) *UpstreamTLS {
	if ts == nil {
		return nil
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := unpack(ts.GetTypedConfig(), ctx); err != nil {
		return nil
	}
	out := &UpstreamTLS{SNI: ctx.GetSni()}
	common := ctx.GetCommonTlsContext()
	if s := common.GetTlsCertificateSdsSecretConfigs(); len(s) > 0 {
		out.ClientCertificate = s[0].GetName()
	}
	if v, err := m.resolveValidation(common); err == nil && v.vc != nil {
		out.Verified = v.hasCA
		for _, s := range v.vc.GetMatchTypedSubjectAltNames() {
			out.SANs = append(out.SANs, describeSAN(s))
		}
	}
	return out
}
