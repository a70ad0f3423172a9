package irbuild

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustgate/trustgate/model"
)

// lookups index the lists every destination and policy consults, so that
// resolving one costs its own host or target, not the configuration's: with
// a DestinationRule and a ServiceEntry per backend, scanning both lists for
// each destination made 10,000 hosts take seconds (docs/performance.md), and
// so would a policy per host scanning the Gateways and their servers. Built
// once per Build, before any chain.
type lookups struct {
	// drByHost holds each DestinationRule under its lower-cased host, in
	// configuration order; drWild those whose host starts with "*", which
	// may cover a host without naming it.
	drByHost map[string][]*model.DestinationRule
	drWild   []*model.DestinationRule
	// seByHost is, for each host a ServiceEntry lists (by foldKey), the
	// first ServiceEntry in configuration order that lists it.
	seByHost map[string]*model.ServiceEntry
	// gateways is the first Gateway of each "namespace/name"; sections
	// the server and port names of each Gateway (Server.SectionNames);
	// nsApplies the namespaces of the Gateways that apply to the proxy.
	gateways  map[string]*model.Gateway
	sections  map[gwSection]bool
	nsApplies map[string]bool
}

// newLookups indexes cfg; applies tells the Gateways that select the proxy.
func newLookups(cfg *model.Config, applies func(*model.Gateway) bool) *lookups {
	l := &lookups{
		drByHost:  make(map[string][]*model.DestinationRule, len(cfg.DestinationRules)),
		seByHost:  make(map[string]*model.ServiceEntry, len(cfg.ServiceEntries)),
		gateways:  make(map[string]*model.Gateway, len(cfg.Gateways)),
		sections:  map[gwSection]bool{},
		nsApplies: map[string]bool{},
	}
	for _, gw := range cfg.Gateways {
		if k := gw.Metadata.Namespace + "/" + gw.Metadata.Name; l.gateways[k] == nil {
			l.gateways[k] = gw
		}
		for i := range gw.Spec.Servers {
			for _, name := range gw.Spec.Servers[i].SectionNames() {
				if name != "" {
					l.sections[gwSection{gw, name}] = true
				}
			}
		}
		if applies(gw) {
			l.nsApplies[gw.Metadata.Namespace] = true
		}
	}
	for _, dr := range cfg.DestinationRules {
		h := strings.ToLower(dr.Spec.Host)
		l.drByHost[h] = append(l.drByHost[h], dr)
		if strings.HasPrefix(h, "*") {
			l.drWild = append(l.drWild, dr)
		}
	}
	for _, se := range cfg.ServiceEntries {
		for _, h := range se.Spec.Hosts {
			if k := foldKey(h); l.seByHost[k] == nil {
				l.seByHost[k] = se
			}
		}
	}
	return l
}

// destinationRule is the DestinationRule for host: an exact host beats a
// wildcard one ("*.a.com"), a longer wildcard a shorter one; among equals,
// one in the referrer's namespace, then one in the host's own namespace
// (for "svc.ns.svc.cluster.local" hosts), then the first in configuration
// order.
func (b *builder) destinationRule(host, refNS string) *model.DestinationRule {
	host = strings.ToLower(host)
	hostNS := ""
	if parts := strings.Split(host, "."); len(parts) >= 3 && parts[2] == "svc" {
		hostNS = parts[1]
	}
	rank := func(dr *model.DestinationRule) int {
		switch dr.Metadata.Namespace {
		case refNS:
			return 0
		case hostNS:
			return 1
		}
		return 2
	}
	var best *model.DestinationRule
	bestSpec, bestNS := -1, 3
	// An exact host outranks every wildcard, so the wildcards are read
	// only when no rule names the host.
	if exact := b.look.drByHost[host]; len(exact) > 0 {
		for _, dr := range exact {
			if r := rank(dr); r < bestNS {
				best, bestNS = dr, r
			}
		}
		return best
	}
	for _, dr := range b.look.drWild {
		drHost := strings.ToLower(dr.Spec.Host)
		if !hostCovers(drHost, host) {
			continue
		}
		spec, r := len(drHost), rank(dr)
		if spec > bestSpec || (spec == bestSpec && r < bestNS) {
			best, bestSpec, bestNS = dr, spec, r
		}
	}
	return best
}

// serviceEntry is the first ServiceEntry (any namespace, configuration
// order) listing host, compared as strings.EqualFold does; cluster names
// carry no namespace, so the choice must not depend on the referrer.
func (b *builder) serviceEntry(host string) *model.ServiceEntry {
	return b.look.seByHost[foldKey(host)]
}

// foldKey maps s so that foldKey(a) == foldKey(b) exactly when
// strings.EqualFold(a, b): each rune becomes the least rune of its
// unicode.SimpleFold orbit, the equivalence EqualFold tests rune by rune
// (so "K", "k" and the Kelvin sign share a key, as they fold equal).
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// The least rune of an ASCII letter's orbit is its upper case
		// ('K' < 'k' < U+212A KELVIN SIGN; 'S' < 's' < U+017F LONG S).
		return strings.ToUpper(s)
	}
	var sb strings.Builder
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		sb.WriteRune(least)
	}
	return sb.String()
}
