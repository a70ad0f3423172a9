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
		at := idx.namedAt(vs)
		if len(at) == 0 {
			continue // mesh-only, or unknown gateways (Validate reports those)
		}
		for i, h := range vs.Spec.Hosts {
			if !idx.servedBy(at, vs, strings.ToLower(h)) {
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
//
// It also holds each Gateway's server hosts parsed, once per reload: parsed
// for each VirtualService host against each server until one served it,
// they were about 25 parses (a lower-casing and a cut) per host at 10,000
// hosts in Gateways of 50.
type gatewayIndex struct {
	all     []*model.Gateway
	byName  map[[2]string][]int // positions in all
	hosts   [][]serverHost      // hosts[i]: every server host of all[i], in order
	hostIdx []hostIndex         // hostIdx[i] indexes hosts[i]
}

func indexGateways(cfg *model.Config) gatewayIndex {
	idx := gatewayIndex{all: cfg.Gateways, byName: map[[2]string][]int{}, hosts: make([][]serverHost, len(cfg.Gateways)),
		hostIdx: make([]hostIndex, len(cfg.Gateways))}
	for i, gw := range cfg.Gateways {
		k := [2]string{gw.Metadata.Namespace, gw.Metadata.Name}
		idx.byName[k] = append(idx.byName[k], i)
		for _, srv := range gw.Spec.Servers {
			for _, sh := range srv.Hosts {
				idx.hosts[i] = append(idx.hosts[i], parseServerHost(sh))
			}
		}
	}
	return idx
}

// namedAt is the positions in all of the Gateways vs binds to, in order.
func (idx gatewayIndex) namedAt(vs *model.VirtualService) []int {
	var at []int
	for _, r := range vs.Spec.Gateways {
		if ns, name, ok := gatewayRef(r, vs.Metadata.Namespace); ok {
			at = append(at, idx.byName[[2]string{ns, name}]...)
		}
	}
	slices.Sort(at)
	return slices.Compact(at)
}

// named is namedGateways(cfg, vs): the Gateways vs binds to, in cfg's
// order.
func (idx gatewayIndex) named(vs *model.VirtualService) []*model.Gateway {
	at := idx.namedAt(vs)
	out := make([]*model.Gateway, 0, len(at))
	for _, i := range at {
		out = append(out, idx.all[i])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// servedBy reports whether a server of the Gateways at these positions
// serves host to vs.
func (idx gatewayIndex) servedBy(at []int, vs *model.VirtualService, host string) bool {
	for _, i := range at {
		none := idx.hostIdx[i].eachMeeting(idx.hosts[i], host, vs.Metadata.Namespace, idx.all[i].Metadata.Namespace,
			func(string) bool { return false })
		if !none {
			return true
		}
	}
	return false
}
