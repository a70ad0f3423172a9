package translate

import (
	"cmp"
	"fmt"
	"slices"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/trustgate/trustgate/xds/ir"
)

// Translate converts the IR of one proxy group into Envoy resources, each
// list sorted by name, and checks them (see Check) before returning. It is
// pure: the same IR always gives the same resources.
func Translate(p *ir.Proxy) (*Resources, error) {
	r := &Resources{}
	for _, l := range p.Listeners {
		out, err := buildListener(l)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", l.Name, err)
		}
		r.Listeners = append(r.Listeners, out)
	}
	for _, rc := range p.RouteConfigs {
		out, err := buildRouteConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("route config %q: %w", rc.Name, err)
		}
		r.Routes = append(r.Routes, out)
	}
	for _, c := range p.Clusters {
		out, cla, err := buildCluster(c)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		r.Clusters = append(r.Clusters, out)
		if cla != nil {
			r.Endpoints = append(r.Endpoints, cla)
		}
	}
	for _, s := range p.Secrets {
		out, err := buildSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %q: %w", s.Name, err)
		}
		r.Secrets = append(r.Secrets, out)
	}
	sortResources(r)
	if err := Check(r); err != nil {
		return nil, err
	}
	return r, nil
}

// sortResources sorts every list by name. The sort is stable so that
// duplicates, which Check rejects, keep their input order.
func sortResources(r *Resources) {
	sortByName(r.Listeners)
	sortByName(r.Routes)
	sortByName(r.Clusters)
	sortByName(r.Secrets)
	slices.SortStableFunc(r.Endpoints, func(a, b *endpointv3.ClusterLoadAssignment) int {
		return cmp.Compare(a.GetClusterName(), b.GetClusterName())
	})
}

// sortByName sorts resources by their name.
func sortByName[T interface{ GetName() string }](s []T) {
	slices.SortStableFunc(s, func(a, b T) int { return cmp.Compare(a.GetName(), b.GetName()) })
}
