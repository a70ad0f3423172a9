package translate

import (
	"errors"
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/internal/re2size"
	"github.com/trustgate/trustgate/xds/ir"
)

// buildRouteConfig converts one RDS resource.
func buildRouteConfig(rc *ir.RouteConfig) (*routev3.RouteConfiguration, error) {
	// Virtual host domains are bare host names: match "Host: a.com:8443" to
	// "a.com" too, without rewriting the Host header the backend sees (as
	// HCM strip_any_host_port would).
	out := &routev3.RouteConfiguration{Name: rc.Name, IgnorePortInHostMatching: true}
	for _, vh := range rc.VirtualHosts {
		v, err := buildVirtualHost(vh)
		if err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", vh.Name, err)
		}
		out.VirtualHosts = append(out.VirtualHosts, v)
	}
	out.MaxDirectResponseBodySizeBytes = directResponseLimit(out)
	return out, nil
}

// buildVirtualHost converts a set of domains and their routes.
func buildVirtualHost(vh *ir.VirtualHost) (*routev3.VirtualHost, error) {
	out := &routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains}
	if vh.RequireTLS {
		out.RequireTls = routev3.VirtualHost_ALL
	}
	// The identity headers' removal and addition both live at this level:
	// Envoy runs removes before adds within one level only.
	out.RequestHeadersToAdd = headerOptions(vh.Headers.Request)
	out.RequestHeadersToRemove = vh.Headers.Request.Remove
	out.ResponseHeadersToAdd = headerOptions(vh.Headers.Response)
	out.ResponseHeadersToRemove = vh.Headers.Response.Remove
	for _, r := range vh.Routes {
		route, err := buildRoute(r)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", r.Name, err)
		}
		out.Routes = append(out.Routes, route)
	}
	return out, nil
}

// buildRoute converts one route: its match, its action and its headers.
func buildRoute(r *ir.Route) (*routev3.Route, error) {
	match, err := buildRouteMatch(r.Match)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	out := &routev3.Route{
		Name:                    r.Name,
		Match:                   match,
		RequestHeadersToAdd:     headerOptions(r.Headers.Request),
		RequestHeadersToRemove:  r.Headers.Request.Remove,
		ResponseHeadersToAdd:    headerOptions(r.Headers.Response),
		ResponseHeadersToRemove: r.Headers.Response.Remove,
	}
	if err := setRouteAction(out, r); err != nil {
		return nil, err
	}
	if out.TypedPerFilterConfig, err = perFilterConfig(r); err != nil {
		return nil, err
	}
	return out, nil
}

// perFilterConfig is a route's typed_per_filter_config: its CORS policy and
// its RBAC bypass; nil when it has neither. Keys must equal the filters'
// names in the HCM (ActiveStreamFilterBase::mostSpecificPerFilterConfig looks
// the route's config up by the filter's config name).
func perFilterConfig(r *ir.Route) (map[string]*anypb.Any, error) {
	out := map[string]*anypb.Any{}
	if r.CORS != nil {
		policy, err := corsPolicy(r.CORS)
		if err != nil {
			return nil, fmt.Errorf("cors: %w", err)
		}
		out[wellknown.CORS] = policy
	}
	if r.BypassRBAC {
		bypass, err := rbacBypass(r)
		if err != nil {
			return nil, err
		}
		out[wellknown.HTTPRoleBasedAccessControl] = bypass
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// rbacBypass is an RBACPerRoute without rules. Both RBAC filters of a chain
// carry the same name, so it switches both off for the route: the per-route
// engine is built from the absent rules, createEngine returns none, and
// RoleBasedAccessControlFilter::decodeHeaders continues without a decision
// (source/extensions/filters/http/rbac/rbac_filter.cc, filters/common/rbac/
// utility.h). Only a route that answers from the gateway may have it.
func rbacBypass(r *ir.Route) (*anypb.Any, error) {
	if r.Forward != nil {
		return nil, errors.New("RBAC bypass on a route that forwards to a backend")
	}
	a, err := toAny(&rbachttpv3.RBACPerRoute{})
	if err != nil {
		return nil, fmt.Errorf("rbac bypass: %w", err)
	}
	return a, nil
}

// setRouteAction sets exactly one of forward, redirect and direct response.
func setRouteAction(out *routev3.Route, r *ir.Route) error {
	n := 0
	for _, set := range []bool{r.Forward != nil, r.Redirect != nil, r.DirectResponse != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("want exactly one of forward, redirect and direct response")
	}
	switch {
	case r.Forward != nil:
		a, err := buildRouteAction(r.Forward)
		if err != nil {
			return err
		}
		out.Action = &routev3.Route_Route{Route: a}
	case r.Redirect != nil:
		a, err := buildRedirect(r.Redirect)
		if err != nil {
			return err
		}
		out.Action = &routev3.Route_Redirect{Redirect: a}
	default:
		out.Action = &routev3.Route_DirectResponse{DirectResponse: buildDirectResponse(r.DirectResponse)}
	}
	return nil
}

// buildRouteMatch converts a route match (an AND of its parts).
func buildRouteMatch(m ir.RouteMatch) (*routev3.RouteMatch, error) {
	out := &routev3.RouteMatch{}
	switch {
	case m.PathExact != "":
		out.PathSpecifier = &routev3.RouteMatch_Path{Path: m.PathExact}
	case m.PathRegex != "":
		// case_sensitive does not apply to safe_regex: fold the case in
		// the pattern instead.
		out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: regexMatcher(re2size.CaseFold(m.PathRegex, m.IgnoreCase))}
	case m.PathPrefix != "":
		out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: m.PathPrefix}
	default:
		out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: "/"}
	}
	if m.IgnoreCase && m.PathRegex == "" {
		out.CaseSensitive = wrapperspb.Bool(false)
	}
	for _, h := range m.Headers {
		hm, err := headerMatcher(h.Name, h.Match, h.Invert)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", h.Name, err)
		}
		out.Headers = append(out.Headers, hm)
	}
	for _, q := range m.QueryParams {
		qm, err := queryMatcher(q)
		if err != nil {
			return nil, fmt.Errorf("query parameter %q: %w", q.Name, err)
		}
		out.QueryParameters = append(out.QueryParameters, qm)
	}
	if m.CertPresented != nil {
		out.TlsContext = &routev3.RouteMatch_TlsContextMatchOptions{Presented: wrapperspb.Bool(*m.CertPresented)}
	}
	return out, nil
}

// queryMatcher matches one query parameter by value or presence.
func queryMatcher(q ir.QueryMatch) (*routev3.QueryParameterMatcher, error) {
	out := &routev3.QueryParameterMatcher{Name: q.Name}
	if q.Match.Present {
		out.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}
		return out, nil
	}
	sm, err := stringMatcher(q.Match)
	if err != nil {
		return nil, err
	}
	out.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm}
	return out, nil
}
