package model

import (
	"fmt"
	"net/netip"
	"strings"
)

// ShortNameRule says how a host without a dot ("httpbin") in a
// VirtualService (its hosts and destinations) or a DestinationRule's host
// is read.
type ShortNameRule string

// Short-name rules.
const (
	// ShortNamesDNS keeps the name as written: Envoy resolves a destination
	// "httpbin" by DNS, as docker compose and VMs name their services, and
	// a VirtualService host "httpbin" matches "Host: httpbin". The default
	// for files: trustgate reads no Kubernetes Services and cannot know that
	// a name is one.
	ShortNamesDNS ShortNameRule = "dns"
	// ShortNamesKubernetes is Istio's rule (ResolveShortnameToFQDN in
	// istio/istio pilot/pkg/model/config.go): "httpbin" in namespace ns is
	// "httpbin.ns.svc.<cluster domain>". In a cluster, DNS through the
	// gateway pod's search path would give the Service of the gateway's
	// namespace instead.
	ShortNamesKubernetes ShortNameRule = "kubernetes"
)

// DefaultClusterDomain is Kubernetes' default cluster domain.
const DefaultClusterDomain = "cluster.local"

// ParseShortNameRule reads a --short-names value.
func ParseShortNameRule(s string) (ShortNameRule, error) {
	switch r := ShortNameRule(strings.ToLower(s)); r {
	case "", ShortNamesDNS:
		return ShortNamesDNS, nil
	case ShortNamesKubernetes:
		return r, nil
	}
	return "", fmt.Errorf("short-name rule %q is not %s or %s", s, ShortNamesDNS, ShortNamesKubernetes)
}

// isShortName reports whether h is a name the rules read differently: no
// dot, not "*", not an IP address.
func isShortName(h string) bool {
	if h == "" || h == "*" || strings.Contains(h, ".") {
		return false
	}
	_, err := netip.ParseAddr(h)
	return err != nil
}

// fqdn is Istio's reading of h in namespace ns.
func (c *Config) fqdn(h, ns string) string {
	if !isShortName(h) {
		return h
	}
	domain := c.ClusterDomain
	if domain == "" {
		domain = DefaultClusterDomain
	}
	return h + "." + ns + ".svc." + domain
}

// ResolveShortNames returns c with Istio's short-name rule applied when
// c.ShortNames is ShortNamesKubernetes: to VirtualService hosts and
// destinations and DestinationRule hosts, as Istio does (ServiceEntry and
// Gateway hosts are used as written there too). The objects it changes are
// copies; c itself is never modified. With ShortNamesDNS it returns c.
func (c *Config) ResolveShortNames() *Config {
	if c == nil || c.ShortNames != ShortNamesKubernetes {
		return c
	}
	out := *c
	out.VirtualServices = make([]*VirtualService, len(c.VirtualServices))
	for i, vs := range c.VirtualServices {
		out.VirtualServices[i] = c.resolveVS(vs)
	}
	out.DestinationRules = make([]*DestinationRule, len(c.DestinationRules))
	for i, dr := range c.DestinationRules {
		cp := *dr
		cp.Spec.Host = c.fqdn(dr.Spec.Host, dr.Metadata.Namespace)
		out.DestinationRules[i] = &cp
	}
	return &out
}

// resolveVS is a copy of vs with its hosts and destination hosts resolved.
func (c *Config) resolveVS(vs *VirtualService) *VirtualService {
	ns := vs.Metadata.Namespace
	cp := *vs
	cp.Spec.Hosts = make([]string, len(vs.Spec.Hosts))
	for i, h := range vs.Spec.Hosts {
		cp.Spec.Hosts[i] = c.fqdn(h, ns)
	}
	cp.Spec.HTTP = make([]HTTPRoute, len(vs.Spec.HTTP))
	for i, h := range vs.Spec.HTTP {
		h.Route = append([]HTTPRouteDestination(nil), h.Route...)
		for j := range h.Route {
			h.Route[j].Destination.Host = c.fqdn(h.Route[j].Destination.Host, ns)
		}
		cp.Spec.HTTP[i] = h
	}
	cp.Spec.TCP = make([]TCPRoute, len(vs.Spec.TCP))
	for i, t := range vs.Spec.TCP {
		t.Route = c.resolveL4(t.Route, ns)
		cp.Spec.TCP[i] = t
	}
	cp.Spec.TLS = make([]TLSRoute, len(vs.Spec.TLS))
	for i, t := range vs.Spec.TLS {
		t.Route = c.resolveL4(t.Route, ns)
		cp.Spec.TLS[i] = t
	}
	return &cp
}

func (c *Config) resolveL4(ds []RouteDestination, ns string) []RouteDestination {
	out := append([]RouteDestination(nil), ds...)
	for i := range out {
		out[i].Destination.Host = c.fqdn(out[i].Destination.Host, ns)
	}
	return out
}

// ShortNameWarnings names every short host that Istio would read
// differently, when c keeps short names as written (ShortNamesDNS).
func (c *Config) ShortNameWarnings() []*FieldError {
	if c == nil || c.ShortNames == ShortNamesKubernetes {
		return nil
	}
	var out []*FieldError
	// warn formats the path only for a short host: most are not, and the
	// paths of 10,000 VirtualServices' routes were most of this function's
	// time on every reload.
	warn := func(o *Object, h, what, pathFormat string, index ...any) {
		if !isShortName(h) {
			return
		}
		e := o.Errorf(fmt.Sprintf(pathFormat, index...), "short host %q %s; Istio reads it as %q. Write the full name, or run with --short-names kubernetes for Istio's rule",
			h, what, c.fqdn(h, o.Metadata.Namespace))
		e.Warning = true
		out = append(out, e)
	}
	const byDNS = "is resolved by DNS from the gateway (in Kubernetes through its pod's search path, so in the gateway's namespace)"
	for _, vs := range c.VirtualServices {
		o := &vs.Object
		for i, h := range vs.Spec.Hosts {
			warn(o, h, "matches the Host header as written", "spec.hosts[%d]", i)
		}
		for i, h := range vs.Spec.HTTP {
			for j, d := range h.Route {
				warn(o, d.Destination.Host, byDNS, "spec.http[%d].route[%d].destination.host", i, j)
			}
		}
		for i, r := range vs.Spec.TCP {
			for j, d := range r.Route {
				warn(o, d.Destination.Host, byDNS, "spec.tcp[%d].route[%d].destination.host", i, j)
			}
		}
		for i, r := range vs.Spec.TLS {
			for j, d := range r.Route {
				warn(o, d.Destination.Host, byDNS, "spec.tls[%d].route[%d].destination.host", i, j)
			}
		}
	}
	for _, dr := range c.DestinationRules {
		warn(&dr.Object, dr.Spec.Host, "applies to destinations written the same way, in any namespace", "spec.host")
	}
	return out
}
