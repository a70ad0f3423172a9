package irbuild

import (
	"strings"

	"github.com/trustgate/trustgate/model"
)

// UnservedHosts warns about VirtualService hosts that no server of the
// Gateways the VirtualService names serves (Istio's IST0132): routes for
// such a host are never built, which users otherwise find out from a 404.
func UnservedHosts(cfg *model.Config) []*model.FieldError {
	var out []*model.FieldError
	for _, vs := range cfg.ResolveShortNames().VirtualServices {
		gws := namedGateways(cfg, vs)
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

// namedGateways are the Gateways a VirtualService binds to.
func namedGateways(cfg *model.Config, vs *model.VirtualService) []*model.Gateway {
	var out []*model.Gateway
	for _, gw := range cfg.Gateways {
		if refsGateway(vs.Spec.Gateways, vs.Metadata.Namespace, gw) {
			out = append(out, gw)
		}
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
