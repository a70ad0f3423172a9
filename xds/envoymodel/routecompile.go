package envoymodel

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// compileVirtualHost checks a virtual host and its routes.
func (m *Model) compileVirtualHost(vh *routev3.VirtualHost) error {
	// Envoy still applies the deprecated cors field
	// (CommonVirtualHostImpl's constructor, source/common/router/config_impl.cc),
	// so the model must see it to refuse it.
	if vh.GetMatcher() != nil || vh.GetCors() != nil { //nolint:staticcheck // SA1019: read to refuse
		return unsupported("virtual host matcher trees or the deprecated cors field")
	}
	if err := m.compileHeaderOps(vh.GetRequestHeadersToAdd(), vh.GetRequestHeadersToRemove()...); err != nil {
		return err
	}
	if err := m.compilePerFilter(vh.GetTypedPerFilterConfig()); err != nil {
		return err
	}
	for i, r := range vh.GetRoutes() {
		if err := m.compileRoute(r); err != nil {
			return fmt.Errorf("routes[%d] %q: %w", i, r.GetName(), err)
		}
	}
	return nil
}

// compileRoute checks one route's match, action, headers and per-filter
// configs.
func (m *Model) compileRoute(r *routev3.Route) error {
	if err := m.compileRouteMatch(r.GetMatch()); err != nil {
		return err
	}
	if err := m.compileHeaderOps(r.GetRequestHeadersToAdd(), r.GetRequestHeadersToRemove()...); err != nil {
		return err
	}
	if err := m.compilePerFilter(r.GetTypedPerFilterConfig()); err != nil {
		return err
	}
	switch a := r.GetAction().(type) {
	case *routev3.Route_Route:
		return m.compileRouteAction(a.Route)
	case *routev3.Route_Redirect:
		if a.Redirect.GetRegexRewrite() != nil {
			return unsupported("redirect regex_rewrite")
		}
		return nil
	case *routev3.Route_DirectResponse:
		_, err := dataSource(a.DirectResponse.GetBody())
		return err
	}
	return unsupported("route action %T", r.GetAction())
}

// compileRouteMatch checks a route match.
func (m *Model) compileRouteMatch(rm *routev3.RouteMatch) error {
	switch p := rm.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix, *routev3.RouteMatch_Path, *routev3.RouteMatch_PathSeparatedPrefix:
	case *routev3.RouteMatch_SafeRegex:
		if err := m.compileRegex(p.SafeRegex.GetRegex()); err != nil {
			return err
		}
	default:
		return unsupported("path specifier %T", rm.GetPathSpecifier())
	}
	if rm.GetRuntimeFraction() != nil || rm.GetGrpc() != nil || len(rm.GetDynamicMetadata())+len(rm.GetFilterState()) > 0 {
		return unsupported("runtime, gRPC, metadata or filter-state route matches")
	}
	for _, h := range rm.GetHeaders() {
		if err := m.compileHeaderMatcher(h); err != nil {
			return err
		}
	}
	for _, q := range rm.GetQueryParameters() {
		if sm := q.GetStringMatch(); sm != nil {
			if err := m.compileStringMatcher(sm); err != nil {
				return err
			}
		}
	}
	return nil
}

// compileRouteAction checks a forwarding action.
func (m *Model) compileRouteAction(a *routev3.RouteAction) error {
	switch {
	case a.GetClusterHeader() != "" || a.GetClusterSpecifierPlugin() != "" || a.GetInlineClusterSpecifierPlugin() != nil:
		return unsupported("cluster_header and cluster specifier plugins")
	case a.GetHostRewriteHeader() != "" || a.GetHostRewritePathRegex() != nil || a.GetAutoHostRewrite().GetValue():
		return unsupported("host rewrites other than host_rewrite_literal")
	case a.GetPathRewritePolicy() != nil || a.GetCors() != nil: //nolint:staticcheck // SA1019: Envoy applies it (RouteEntryImplBase), so the model refuses it
		return unsupported("path rewrite policies or the deprecated cors field")
	}
	if rr := a.GetRegexRewrite(); rr != nil {
		if err := m.compileBareRegex(rr.GetPattern().GetRegex()); err != nil {
			return err
		}
	}
	for _, c := range a.GetWeightedClusters().GetClusters() {
		if c.GetClusterHeader() != "" {
			return unsupported("weighted cluster_header")
		}
		if err := m.compileHeaderOps(c.GetRequestHeadersToAdd(), c.GetRequestHeadersToRemove()...); err != nil {
			return err
		}
		if len(c.GetTypedPerFilterConfig()) > 0 {
			return unsupported("typed_per_filter_config on a weighted cluster")
		}
	}
	return nil
}

// compilePerFilter checks typed_per_filter_config entries: RBACPerRoute,
// CorsPolicy, and either wrapped in a FilterConfig.
func (m *Model) compilePerFilter(cfgs map[string]*anypb.Any) error {
	for name, a := range cfgs {
		if err := m.compilePerFilterEntry(a); err != nil {
			return fmt.Errorf("typed_per_filter_config[%s]: %w", name, err)
		}
	}
	return nil
}

// compilePerFilterEntry checks one per-filter config.
func (m *Model) compilePerFilterEntry(a *anypb.Any) error {
	switch typeName(a) {
	case "envoy.config.route.v3.FilterConfig":
		fc := &routev3.FilterConfig{}
		if err := unpack(a, fc); err != nil {
			return err
		}
		if fc.GetDisabled() || fc.GetConfig() == nil {
			return nil
		}
		return m.compilePerFilterEntry(fc.GetConfig())
	case "envoy.extensions.filters.http.rbac.v3.RBACPerRoute":
		p := &rbachttpv3.RBACPerRoute{}
		if err := unpack(a, p); err != nil {
			return err
		}
		return m.compileRBAC(p.GetRbac().GetRules(), p.GetRbac().GetShadowRules())
	case "envoy.extensions.filters.http.cors.v3.CorsPolicy":
		p := &corsv3.CorsPolicy{}
		if err := unpack(a, p); err != nil {
			return err
		}
		for _, o := range p.GetAllowOriginStringMatch() {
			if err := m.compileStringMatcher(o); err != nil {
				return err
			}
		}
		return nil
	}
	return unsupported("per-filter config %s", typeName(a))
}

// checkDomains is RouteMatcher's refusal of a repeated domain or a second
// "*" (source/common/router/config_impl.cc, RouteMatcher::RouteMatcher:
// "Only unique values for domains are permitted").
func checkDomains(rc *routev3.RouteConfiguration) error {
	seen := map[string]string{}
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			d = asciiLower(d)
			if prev, dup := seen[d]; dup {
				return fmt.Errorf("domain %q is in virtual hosts %q and %q: Envoy rejects the route configuration", d, prev, vh.GetName())
			}
			seen[d] = vh.GetName()
		}
	}
	return nil
}
