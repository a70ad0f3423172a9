package envoymodel

import (
	"fmt"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// httpFilters runs the HTTP filters in chain order; the router ends the
// chain (source/common/http/filter_manager.cc, decodeHeaders). Every
// filter sees the route the HCM resolved before them, and the request as
// the HCM left it: route-level header changes happen in the router, after
// every filter, so RBAC judges the client's own copy of a header.
func (r *run) httpFilters(hm *httpManager, sel selection, h *headerMap) {
	r.t.FiltersRan = true
	for i, f := range hm.filters {
		label := fmt.Sprintf("http filter %d %s", i, f.name)
		per, disabled := perFilterConfig(sel, f.name)
		if disabled {
			r.step("filter", "source/common/router/config_impl.cc, RouteEntryImplBase::filterDisabled", "%s is disabled on this route", label)
			continue
		}
		switch {
		case f.sfs != nil:
			r.setFilterState(label, f.sfs.GetOnRequestHeaders())
		case f.rbac != nil:
			if !r.httpRBAC(label, f.rbac, per, h) {
				return
			}
		case f.cors:
			if r.corsPreflight(label, per, h) {
				return
			}
		case f.router:
			r.router(sel, h)
			return
		}
	}
}

// perFilterConfig is resolveMostSpecificPerFilterConfig
// (source/common/http/utility.h): the route's typed_per_filter_config
// entry under the filter's name, else the virtual host's, else the route
// configuration's. A FilterConfig wrapper may disable the filter.
func perFilterConfig(sel selection, name string) (*anypb.Any, bool) {
	var levels []map[string]*anypb.Any
	if sel.route != nil {
		levels = append(levels, sel.route.GetTypedPerFilterConfig())
	}
	if sel.vh != nil {
		levels = append(levels, sel.vh.GetTypedPerFilterConfig())
	}
	levels = append(levels, sel.rc.GetTypedPerFilterConfig())
	for _, l := range levels {
		a, ok := l[name]
		if !ok {
			continue
		}
		if typeName(a) == "envoy.config.route.v3.FilterConfig" {
			fc := &routev3.FilterConfig{}
			if err := a.UnmarshalTo(fc); err == nil {
				if fc.GetDisabled() {
					return nil, true
				}
				return fc.GetConfig(), false
			}
		}
		return a, false
	}
	return nil, false
}

// httpRBAC is RoleBasedAccessControlFilter::decodeHeaders
// (source/extensions/filters/http/rbac/rbac_filter.cc): a route's
// RBACPerRoute replaces the filter's rules (and one without rbac turns the
// filter off); shadow rules are evaluated and never block; a denial is a
// 403 "RBAC: access denied". It returns false when the request ends.
func (r *run) httpRBAC(label string, f *rbachttpv3.RBAC, per *anypb.Any, h *headerMap) bool {
	rules, shadow, perRoute := f.GetRules(), f.GetShadowRules(), false
	if per != nil {
		pr := &rbachttpv3.RBACPerRoute{}
		if err := per.UnmarshalTo(pr); err == nil {
			rules, shadow, perRoute = pr.GetRbac().GetRules(), pr.GetRbac().GetShadowRules(), true
		}
	}
	const src = "source/extensions/filters/http/rbac/rbac_filter.cc, RoleBasedAccessControlFilter::decodeHeaders"
	ctx := r.rbacContext(h)
	if shadow != nil {
		ok, pol := r.m.evalRules(shadow, ctx)
		r.t.Policies = append(r.t.Policies, PolicyDecision{Filter: label, Action: shadow.GetAction().String(), Policy: pol, Allowed: ok, Shadow: true, PerRoute: perRoute})
	}
	if rules == nil {
		if perRoute {
			r.step("rbac", src, "%s: the route's RBACPerRoute has no rules: the filter enforces nothing here", label)
		}
		return true
	}
	ok, pol := r.m.evalRules(rules, ctx)
	r.t.Policies = append(r.t.Policies, PolicyDecision{Filter: label, Action: rules.GetAction().String(), Policy: pol, Allowed: ok, PerRoute: perRoute})
	from := ""
	if perRoute {
		from = " (the route's RBACPerRoute)"
	}
	r.step("rbac", src, "%s: %s rules%s, %s%s", label, rules.GetAction(), from, rbacOutcome(ok, pol), rbacEmpty(rules))
	if !ok {
		r.t.Body = "RBAC: access denied"
		r.end(Denied, 403, fmt.Sprintf("RBAC %s rules denied the request (%s)", rules.GetAction(), policyText(pol)))
	}
	return ok
}

// rbacEmpty notes an ALLOW rule set without policies (deny all).
func rbacEmpty(rules *rbacv3.RBAC) string {
	if rules.GetAction() == rbacv3.RBAC_ALLOW && len(rules.GetPolicies()) == 0 {
		return "; an ALLOW rule set without policies denies everything"
	}
	return ""
}

// corsPreflight is the CORS filter's answer to a preflight
// (source/extensions/filters/http/cors/cors_filter.cc,
// CorsFilter::decodeHeaders): an OPTIONS request with Origin and
// Access-Control-Request-Method whose origin the route's CorsPolicy allows
// is answered 200 by the filter. Anything else passes on. It returns true
// when the request ends.
func (r *run) corsPreflight(label string, per *anypb.Any, h *headerMap) bool {
	method, _ := h.get(":method")
	origin, hasOrigin := h.get("origin")
	_, hasACRM := h.get("access-control-request-method")
	if per == nil || method != "OPTIONS" || !hasOrigin || !hasACRM {
		return false
	}
	p := &corsv3.CorsPolicy{}
	if err := per.UnmarshalTo(p); err != nil {
		return false
	}
	for _, o := range p.GetAllowOriginStringMatch() {
		if r.m.matchString(o, origin) {
			r.step("cors", "source/extensions/filters/http/cors/cors_filter.cc, CorsFilter::decodeHeaders", "%s answers the preflight from origin %q", label, origin)
			r.end(DirectResponse, 200, fmt.Sprintf("CORS preflight from %q answered by the CORS filter", origin))
			return true
		}
	}
	r.step("cors", "", "%s: origin %q is not allowed; the preflight goes on", label, origin)
	return false
}
