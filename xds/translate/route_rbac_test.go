package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/ir"
)

func TestBuildRouteRBACBypass(t *testing.T) {
	misdirected := &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
		Status: 421, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "misdirected"}},
	}}
	tests := map[string]struct {
		in      *ir.Route
		want    *routev3.Route
		wantErr bool
	}{
		"a direct response switches both RBAC filters off with an RBACPerRoute without rules": {
			in: &ir.Route{Name: "m", BypassRBAC: true, DirectResponse: &ir.DirectResponse{Status: 421, Body: "misdirected"}},
			want: &routev3.Route{
				Name: "m", Match: prefixMatch("/"), Action: misdirected,
				TypedPerFilterConfig: map[string]*anypb.Any{wellknown.HTTPRoleBasedAccessControl: mustAny(t, &rbachttpv3.RBACPerRoute{})},
			},
		},
		"a redirect may bypass too": {
			in: &ir.Route{Name: "r", BypassRBAC: true, Redirect: &ir.Redirect{Host: "login.example.com", Code: 302}},
			want: &routev3.Route{
				Name: "r", Match: prefixMatch("/"),
				Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
					HostRedirect: "login.example.com", ResponseCode: routev3.RedirectAction_FOUND,
				}},
				TypedPerFilterConfig: map[string]*anypb.Any{wellknown.HTTPRoleBasedAccessControl: mustAny(t, &rbachttpv3.RBACPerRoute{})},
			},
		},
		"without the flag RBAC applies": {
			in:   &ir.Route{Name: "m", DirectResponse: &ir.DirectResponse{Status: 421, Body: "misdirected"}},
			want: &routev3.Route{Name: "m", Match: prefixMatch("/"), Action: misdirected},
		},
		"a forwarding route never bypasses RBAC": {
			in: &ir.Route{Name: "f", BypassRBAC: true, Forward: &ir.Forward{
				Destinations: []ir.WeightedCluster{{Cluster: "c", Weight: 100}},
			}},
			wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := buildRoute(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr {
				diffProto(t, tc.want, got)
			}
		})
	}
}
