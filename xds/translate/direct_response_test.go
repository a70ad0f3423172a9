package translate

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// TestDirectResponseBodyLimit: a route configuration whose largest
// direct-response body is over Envoy's default 4096 bytes raises
// max_direct_response_body_size_bytes to that body's size; otherwise the
// field stays unset.
func TestDirectResponseBodyLimit(t *testing.T) {
	for name, tc := range map[string]struct {
		bodies []int
		want   *wrapperspb.UInt32Value
	}{
		"no direct response":  {},
		"at the default":      {bodies: []int{10, 4096}},
		"over the default":    {bodies: []int{4097}, want: wrapperspb.UInt32(4097)},
		"largest body counts": {bodies: []int{5000, 70000, 100}, want: wrapperspb.UInt32(70000)},
	} {
		t.Run(name, func(t *testing.T) {
			vh := &ir.VirtualHost{Name: "a.example.com", Domains: []string{"a.example.com"}}
			for i, n := range tc.bodies {
				vh.Routes = append(vh.Routes, &ir.Route{
					Name:           "r" + strings.Repeat("x", i),
					Match:          ir.RouteMatch{PathPrefix: "/" + strings.Repeat("x", i)},
					DirectResponse: &ir.DirectResponse{Status: 200, Body: strings.Repeat("a", n)},
				})
			}
			rc, err := buildRouteConfig(&ir.RouteConfig{Name: "rc", VirtualHosts: []*ir.VirtualHost{vh}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, rc.GetMaxDirectResponseBodySizeBytes(), protocmp.Transform()); diff != "" {
				t.Errorf("max_direct_response_body_size_bytes (-want +got):\n%s", diff)
			}
			if err := Check(&Resources{Routes: []*routev3.RouteConfiguration{rc}}); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}
