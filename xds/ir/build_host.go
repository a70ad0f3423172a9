package ir

import (
	"net/netip"
	"strings"

	"github.com/trustgate/trustgate/model"
)

// gatewayRef resolves a VirtualService gateway reference as model.Validate
// does: "name" (in the VirtualService's namespace), "ns/name", or the FQDN
// form "name.ns.svc.cluster.local" (which SAP Kyma writes). ok is false for
// "mesh", which is not a Gateway.
func gatewayRef(ref, defaultNS string) (ns, name string, ok bool) {
	if ref == "mesh" || ref == "" {
		return "", "", false
	}
	if ns, name, found := strings.Cut(ref, "/"); found {
		return ns, name, true
	}
	if name, rest, found := strings.Cut(ref, "."); found {
		ns, _, _ = strings.Cut(rest, ".")
		return ns, name, true
	}
	return defaultNS, ref, true
}

// refsGateway reports whether one of refs names gw.
func refsGateway(refs []string, defaultNS string, gw *model.Gateway) bool {
	for _, r := range refs {
		ns, name, ok := gatewayRef(r, defaultNS)
		if ok && ns == gw.Metadata.Namespace && name == gw.Metadata.Name {
			return true
		}
	}
	return false
}

// matchFilter reports whether a route's match (its gateways and port, both
// optional) applies to server s.
func matchFilter(gateways []string, port uint32, vs *model.VirtualService, s *serverRef) bool {
	if len(gateways) > 0 && !refsGateway(gateways, vs.Metadata.Namespace, s.gw) {
		return false
	}
	return port == 0 || port == s.srv.Port.Number
}

// hostCovers reports whether pattern admits host: "*" admits everything,
// "*.a.com" admits "x.a.com" and "*.x.a.com" (and itself), anything else
// admits only itself.
func hostCovers(pattern, host string) bool {
	switch {
	case pattern == "*" || pattern == host:
		return true
	case strings.HasPrefix(pattern, "*."):
		suffix := pattern[1:]
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return false
}

// intersectHost is the more specific of a server host and a VirtualService
// host when one admits the other: server "*.a.com" and VS "x.a.com" give
// "x.a.com"; VS "*" under server "x.a.com" gives "x.a.com".
func intersectHost(server, vs string) (string, bool) {
	switch {
	case hostCovers(server, vs):
		return vs, true
	case hostCovers(vs, server):
		return server, true
	}
	return "", false
}

// admitsNamespace reports whether a server host's "ns/" prefix admits a
// VirtualService of namespace vsNS ("." is the Gateway's own namespace).
func admitsNamespace(h serverHost, vsNS, gwNS string) bool {
	switch h.ns {
	case "*":
		return true
	case ".":
		return vsNS == gwNS
	}
	return h.ns == vsNS
}

// vsDomains is the intersection of a VirtualService's hosts with a server's,
// sorted and deduplicated; empty when the VirtualService does not apply.
func vsDomains(vs *model.VirtualService, s *serverRef) []string {
	var out []string
	for _, sh := range s.hosts {
		if !admitsNamespace(sh, vs.Metadata.Namespace, s.gw.Metadata.Namespace) {
			continue
		}
		for _, h := range vs.Spec.Hosts {
			if d, ok := intersectHost(sh.host, strings.ToLower(h)); ok {
				out = append(out, d)
			}
		}
	}
	return sortedUnique(out)
}

// boundVirtualServices are the VirtualServices, in configuration order,
// that name s's Gateway and share a host with s; with anyHost, also those
// without hosts (tcp-only VirtualServices may omit them).
func (b *builder) boundVirtualServices(s *serverRef, anyHost bool) []*model.VirtualService {
	var out []*model.VirtualService
	for _, vs := range b.cfg.VirtualServices {
		if !refsGateway(vs.Spec.Gateways, vs.Metadata.Namespace, s.gw) {
			continue
		}
		if len(vsDomains(vs, s)) > 0 || (anyHost && len(vs.Spec.Hosts) == 0) {
			out = append(out, vs)
		}
	}
	return out
}

// isIP reports whether host is an IP literal.
func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}
