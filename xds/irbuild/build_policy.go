package irbuild

import (
	"fmt"
	"strings"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// trafficPolicy is the DestinationRule policy in force for one destination
// (host, port, subset), each part with the field path it came from.
type trafficPolicy struct {
	dr                 *model.DestinationRule
	lb                 *model.LoadBalancerSettings
	cp                 *model.ConnectionPoolSettings
	od                 *model.OutlierDetection
	tls                *model.ClientTLSSettings
	rb                 *model.RetryBudget
	lbPath, cpPath     string
	odPath, tlsPath    string
	rbPath, portLevels string
}

// policyFor merges a DestinationRule's policy for a port and subset as
// Istio does (MergeSubsetTrafficPolicy in istio/istio pilot/pkg/networking/
// util/util.go, MergeTrafficPolicy in pilot/pkg/model/destination_rule.go):
//   - a portLevelSettings entry for the port replaces the whole policy around
//     it: its four parts, set or not, and no retryBudget;
//   - a subset's policy then replaces each part it sets (all four when its
//     own portLevelSettings has the port).
func policyFor(dr *model.DestinationRule, port uint32, subset *model.Subset, subsetPath string) *trafficPolicy {
	p := &trafficPolicy{dr: dr}
	if dr == nil {
		return p
	}
	p.apply(dr.Spec.TrafficPolicy, "spec.trafficPolicy", port, false)
	if subset != nil {
		p.apply(subset.TrafficPolicy, subsetPath+".trafficPolicy", port, true)
	}
	return p
}

// apply lays tp (at base) over p for port; overlay is false for the
// DestinationRule's own policy, which sets every part.
func (p *trafficPolicy) apply(tp *model.TrafficPolicy, base string, port uint32, overlay bool) {
	if tp == nil {
		return
	}
	for i := range tp.PortLevelSettings {
		pl := &tp.PortLevelSettings[i]
		if pl.Port.Number != port {
			continue
		}
		path := fmt.Sprintf("%s.portLevelSettings[%d]", base, i)
		p.lb, p.lbPath = pl.LoadBalancer, path+".loadBalancer"
		p.cp, p.cpPath = pl.ConnectionPool, path+".connectionPool"
		p.od, p.odPath = pl.OutlierDetection, path+".outlierDetection"
		p.tls, p.tlsPath = pl.TLS, path+".tls"
		if !overlay {
			p.rb, p.rbPath = nil, ""
		}
		p.portLevels = path
		return
	}
	if !overlay || tp.LoadBalancer != nil {
		p.lb, p.lbPath = tp.LoadBalancer, base+".loadBalancer"
	}
	if !overlay || tp.ConnectionPool != nil {
		p.cp, p.cpPath = tp.ConnectionPool, base+".connectionPool"
	}
	if !overlay || tp.OutlierDetection != nil {
		p.od, p.odPath = tp.OutlierDetection, base+".outlierDetection"
	}
	if !overlay || tp.TLS != nil {
		p.tls, p.tlsPath = tp.TLS, base+".tls"
	}
	if !overlay || tp.RetryBudget != nil {
		p.rb, p.rbPath = tp.RetryBudget, base+".retryBudget"
	}
}

// warnPortLevel says which parts of the DestinationRule's policy a
// port-level entry drops for its port: Istio does not inherit them, so
// for instance TLS set for the host is off on a port whose entry has no
// tls.
func (b *builder) warnPortLevel(p *trafficPolicy, host string, port uint32) {
	if p.dr == nil || p.portLevels == "" || p.dr.Spec.TrafficPolicy == nil {
		return
	}
	top := p.dr.Spec.TrafficPolicy
	var dropped []string
	for _, part := range []struct {
		name        string
		top, pl     bool
		consequence string
	}{
		{"tls", top.TLS != nil, p.tls != nil, " (TLS to this port is off)"},
		{"loadBalancer", top.LoadBalancer != nil, p.lb != nil, ""},
		{"connectionPool", top.ConnectionPool != nil, p.cp != nil, ""},
		{"outlierDetection", top.OutlierDetection != nil, p.od != nil, ""},
		{"retryBudget", top.RetryBudget != nil, false, ""},
	} {
		if part.top && !part.pl {
			dropped = append(dropped, part.name+part.consequence)
		}
	}
	if len(dropped) > 0 {
		b.warnf(&p.dr.Object, p.portLevels, "for %s port %d this entry replaces the policy around it, so the %s of spec.trafficPolicy do not apply there (Istio's rule: port-level settings inherit nothing); repeat them here",
			host, port, joinAnd(dropped))
	}
}

// destPolicy is what a route or TCP proxy to a cluster takes from the
// cluster's policy: the consistent-hash key, and the TCP proxy's idle
// timeout and connection lifetime.
type destPolicy struct {
	hash           *ir.HashPolicy
	tcpIdle        *time.Duration
	tcpMaxDuration *time.Duration
}

// destinationPolicy extracts a destPolicy. Istio reads the TCP proxy's
// timeouts from the DestinationRule's top-level connectionPool only
// (buildOutboundNetworkFiltersWithSingleDestination in istio/istio pilot/
// pkg/networking/core/networkfilter.go); trustgate takes them from the
// policy in force for the port and subset, as for the cluster itself.
func destinationPolicy(p *trafficPolicy) destPolicy {
	var out destPolicy
	if p.lb != nil {
		out.hash = hashPolicy(p.lb.ConsistentHash)
	}
	if p.cp != nil && p.cp.TCP != nil {
		for _, f := range []struct {
			s   string
			dst **time.Duration
		}{{p.cp.TCP.IdleTimeout, &out.tcpIdle}, {p.cp.TCP.MaxConnectionDuration, &out.tcpMaxDuration}} {
			if d, err := parseDuration(f.s); f.s != "" && err == nil {
				*f.dst = &d
			}
		}
	}
	return out
}

// hashPolicy is the hash key of a consistent hash (Istio's
// ConsistentHashToHashPolicy in pilot/pkg/networking/core/route/route.go).
func hashPolicy(ch *model.ConsistentHashLB) *ir.HashPolicy {
	switch {
	case ch == nil:
		return nil
	case ch.HTTPHeaderName != "":
		return &ir.HashPolicy{Header: strings.ToLower(ch.HTTPHeaderName)}
	case ch.HTTPCookie != nil:
		c := &ir.HashCookie{Name: ch.HTTPCookie.Name, Path: ch.HTTPCookie.Path}
		if d, err := parseDuration(ch.HTTPCookie.TTL); ch.HTTPCookie.TTL != "" && err == nil {
			c.TTL = &d
		}
		for _, a := range ch.HTTPCookie.Attributes {
			c.Attributes = append(c.Attributes, ir.Header{Name: a.Name, Value: a.Value})
		}
		return &ir.HashPolicy{Cookie: c}
	case ch.UseSourceIP:
		return &ir.HashPolicy{SourceIP: true}
	case ch.HTTPQueryParameterName != "":
		return &ir.HashPolicy{QueryParameter: ch.HTTPQueryParameterName}
	}
	return nil
}

// tcpChainOf is the TCP proxy of chain name to dests, with the idle
// timeout, connection lifetime and source-IP hash of the first
// destination's policy, as Istio reads them (buildOutboundNetworkFilters
// and maybeSetHashPolicy in istio/istio pilot/pkg/networking/core/
// networkfilter.go).
func (b *builder) tcpChainOf(name string, dests []ir.WeightedCluster) *ir.TCPChain {
	t := &ir.TCPChain{StatPrefix: ir.StatPrefix(name), Destinations: dests}
	if len(dests) == 0 {
		return t
	}
	p := b.destPolicy[dests[0].Cluster]
	t.IdleTimeout, t.MaxConnectionDuration = p.tcpIdle, p.tcpMaxDuration
	t.HashSourceIP = p.hash != nil && p.hash.SourceIP
	return t
}

// joinAnd joins "a", "a and b", "a, b and c".
func joinAnd(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
