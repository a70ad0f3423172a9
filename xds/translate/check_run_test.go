package translate

import (
	"fmt"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
)

// TestCheckFindingsInOrder: resources checked on every core report their
// findings in resource order, each once, as one after the other would.
func TestCheckFindingsInOrder(t *testing.T) {
	r := &Resources{}
	var want []string
	for i := range 300 {
		name := fmt.Sprintf("rc-%03d", i)
		missing := fmt.Sprintf("c-%03d", i)
		route := &routev3.Route{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: missing}}},
		}
		// Two routes to the same missing cluster: one finding.
		r.Routes = append(r.Routes, &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{{
			Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{route, route},
		}}})
		want = append(want, fmt.Sprintf("route config %q: cluster %q: %v", name, missing, ErrMissingCluster))
	}
	err := Check(r)
	if err == nil {
		t.Fatal("Check found nothing")
	}
	if d := cmp.Diff(want, strings.Split(err.Error(), "\n")); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}
