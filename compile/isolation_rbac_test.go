package compile_test

import (
	"slices"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/trustgate/trustgate/xds/irbuild"
)

// TestLocalRepliesBypassRBAC checks the answers trustgate makes itself (the
// 421 for another server's host, OPTIONAL_MUTUAL's rejection) on every chain
// with an RBAC filter: they switch RBAC off for their route, so an ALLOW
// policy cannot turn them into 403; and no route that switches RBAC off
// forwards to a backend.
func TestLocalRepliesBypassRBAC(t *testing.T) {
	local := 0
	for _, c := range isolationCases() {
		v := newEnvoyView(c.translate(t))
		for _, l := range v.listeners {
			for _, fc := range l.GetFilterChains() {
				h, rc := v.routeConfig(t, fc)
				if rc == nil {
					continue
				}
				rbacOn := slices.ContainsFunc(h.GetHttpFilters(), func(f *hcmv3.HttpFilter) bool { return f.GetName() == wellknown.HTTPRoleBasedAccessControl })
				for _, vh := range rc.GetVirtualHosts() {
					for _, r := range vh.GetRoutes() {
						bypass := rbacBypass(t, r)
						if bypass && r.GetRoute() != nil {
							t.Errorf("%v\n  %s: route %s forwards to a backend with RBAC switched off", c, rc.GetName(), r.GetName())
						}
						if !rbacOn || !isLocalReply(vh, r) {
							continue
						}
						local++
						if !bypass {
							t.Errorf("%v\n  %s: trustgate's own answer %s is subject to RBAC, so an ALLOW policy answers 403 instead", c, rc.GetName(), r.GetName())
						}
					}
				}
			}
		}
	}
	if local == 0 {
		t.Fatal("no local reply on a chain with RBAC was checked")
	}
}

// isLocalReply reports whether r is an answer trustgate makes itself: the
// misdirected-request 421 or the rejection of a request without a
// certificate (a direct response or a redirect).
func isLocalReply(vh *routev3.VirtualHost, r *routev3.Route) bool {
	if r.GetRoute() != nil {
		return false
	}
	return r.GetName() == irbuild.MisdirectedVirtualHost || strings.HasSuffix(r.GetName(), "/no-client-certificate")
}

// rbacBypass reports whether r carries an RBACPerRoute without rules, which
// makes both RBAC filters (same name) skip the route.
func rbacBypass(t *testing.T, r *routev3.Route) bool {
	t.Helper()
	a := r.GetTypedPerFilterConfig()[wellknown.HTTPRoleBasedAccessControl]
	if a == nil {
		return false
	}
	per := &rbachttpv3.RBACPerRoute{}
	if err := a.UnmarshalTo(per); err != nil {
		t.Fatalf("route %s: %v", r.GetName(), err)
	}
	if per.GetRbac() != nil {
		t.Fatalf("route %s: per-route RBAC with rules %v", r.GetName(), per.GetRbac())
	}
	return true
}
