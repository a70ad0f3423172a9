package irbuild

import (
	"slices"
	"strings"

	"github.com/trustgate/trustgate/model"
)

// UnservedHosts warns about VirtualService hosts that no server of the
// Gateways the VirtualService names serves (Istio's IST0132): routes for
// such a host are never built, which users otherwise find out from a 404.
func UnservedHosts(cfg *model.Config) []*model.FieldError {
	var out []*model.FieldError
	idx := indexGateways(cfg)
	for _, vs := range cfg.ResolveShortNames().VirtualServices {
		gws := idx.named(vs)
		if len(gws) == 0 {
			continue // mesh-only, or unknown gateways (Validate reports those)
		}
		for i, h := range vs.Spec.Hosts {
			if !servedBy(gws, vs, strings.ToLower(h)) {
				e := vs.Errorf("spec.hosts["+itoa(i)+"]", "host %q is not served by any server of gateways %s: no route is built for it", h, strings.Join(vs.Spec.Gateways, ", "))
				e.Warning = true
				out = append(out, e)
			}
		}
	}
	return out
}

// gatewayIndex finds Gateways by namespace and name: looking each
// VirtualService's gateways up in it, rather than testing every Gateway
// against every VirtualService, took UnservedHosts from 40 ms to nothing
// at 10,000 hosts in Gateways of 50 (docs/performance.md).
type gatewayIndex struct {
	all    []*model.Gateway
	byName map[[2]string][]int // positions in all
}

func indexGateways(cfg *model.Config) gatewayIndex {
	idx := gatewayIndex{all: cfg.Gateways, byName: map[[2]string][]int{}}
	for i, gw := range cfg.Gateways {
		k := [2]string{gw.Metadata.Namespace, gw.Metadata.Name}
		idx.byName[k] = append(idx.byName[k], i)
	}
	return idx
}

// named is namedGateways(cfg, vs): the Gateways vs binds to, in cfg's
// order.
func (idx gatewayIndex) named(vs *model.VirtualService) []*model.Gateway {
	var at []int
	for _, r := range vs.Spec.Gateways {
		if ns, name, ok := gatewayRef(r, vs.Metadata.Namespace); ok {
			at = append(at, idx.byName[[2]string{ns, name}]...)
		}
	}
	slices.Sort(at)
	at = slices.Compact(at)
	out := make([]*model.Gateway, 0, len(at))
	for _, i := range at {
		out = append(out, idx.all[i])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func servedBy(gws []*model.Gateway, vs *model.VirtualService, host string) bool {
	for _, gw := range gws {
		for _, srv := range gw.Spec.Servers {
			for _, sh := range srv.Hosts {
				h := parseServerHost(sh)
				if !admitsNamespace(h, vs.Metadata.Namespace, gw.Metadata.Namespace) {
					continue
				}
				if _, ok := intersectHost(h.host, host); ok {
					return true
				}
			}
		}
	}
	return false
}
