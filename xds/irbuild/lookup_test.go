package irbuild

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// linearDestinationRule is the rule destinationRule implements, as a scan
// of every DestinationRule: the oracle the index must agree with.
func linearDestinationRule(cfg *model.Config, host, refNS string) *model.DestinationRule {
	host = strings.ToLower(host)
	hostNS := ""
	if parts := strings.Split(host, "."); len(parts) >= 3 && parts[2] == "svc" {
		hostNS = parts[1]
	}
	var best *model.DestinationRule
	bestSpec, bestNS := -1, 3
	for _, dr := range cfg.DestinationRules {
		drHost := strings.ToLower(dr.Spec.Host)
		spec := 0
		switch {
		case drHost == host:
			spec = 1 << 20
		case strings.HasPrefix(drHost, "*") && hostCovers(drHost, host):
			spec = len(drHost)
		default:
			continue
		}
		nsRank := 2
		switch dr.Metadata.Namespace {
		case refNS:
			nsRank = 0
		case hostNS:
			nsRank = 1
		}
		if spec > bestSpec || (spec == bestSpec && nsRank < bestNS) {
			best, bestSpec, bestNS = dr, spec, nsRank
		}
	}
	return best
}

// linearServiceEntry is the first ServiceEntry listing host, by a scan.
func linearServiceEntry(cfg *model.Config, host string) *model.ServiceEntry {
	for _, se := range cfg.ServiceEntries {
		for _, h := range se.Spec.Hosts {
			if strings.EqualFold(h, host) {
				return se
			}
		}
	}
	return nil
}

// TestLookupsAgreeWithScan checks the indexed DestinationRule and
// ServiceEntry lookups against a scan of every object, on random
// configurations built from hosts that collide in every way the rules tell
// apart: case, wildcards of several lengths, "*", the host's own namespace,
// several rules or entries for one host (configuration order decides), and
// runes that fold to ASCII letters.
func TestLookupsAgreeWithScan(t *testing.T) {
	hosts := []string{
		"a.example.com", "A.Example.COM", "b.example.com", "x.a.example.com",
		"*.example.com", "*.a.example.com", "*.EXAMPLE.com", "*", "*.com",
		"web.ns1.svc.cluster.local", "web.ns2.svc.cluster.local", "*.ns1.svc.cluster.local",
		"kube.example.com", "\u212aube.example.com", "\u017fvc.example.com", "svc.example.com",
		"caf\u00e9.example.com", "CAF\u00c9.example.com", "bad\xff.example.com", "bad\xfe.example.com",
	}
	namespaces := []string{"ns1", "ns2", "edge", "istio-system"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		cfg := &model.Config{}
		for i := range rng.IntN(12) {
			dr := &model.DestinationRule{}
			dr.Metadata.Name = fmt.Sprintf("dr-%d", i)
			dr.Metadata.Namespace = namespaces[rng.IntN(len(namespaces))]
			dr.Spec.Host = hosts[rng.IntN(len(hosts))]
			cfg.DestinationRules = append(cfg.DestinationRules, dr)
		}
		for i := range rng.IntN(8) {
			se := &model.ServiceEntry{}
			se.Metadata.Name = fmt.Sprintf("se-%d", i)
			for range 1 + rng.IntN(3) {
				se.Spec.Hosts = append(se.Spec.Hosts, hosts[rng.IntN(len(hosts))])
			}
			cfg.ServiceEntries = append(cfg.ServiceEntries, se)
		}
		b := &builder{cfg: cfg, look: newLookups(cfg, func(*model.Gateway) bool { return true })}
		for _, h := range hosts {
			for _, ns := range namespaces {
				if got, want := b.destinationRule(h, ns), linearDestinationRule(cfg, h, ns); got != want {
					t.Fatalf("round %d: destinationRule(%q, %q) = %s, the scan gives %s", round, h, ns, drName(got), drName(want))
				}
			}
			if got, want := b.serviceEntry(h), linearServiceEntry(cfg, h); got != want {
				t.Fatalf("round %d: serviceEntry(%q) = %v, the scan gives %v", round, h, got, want)
			}
		}
	}
}

func drName(dr *model.DestinationRule) string {
	if dr == nil {
		return "none"
	}
	return dr.Metadata.Namespace + "/" + dr.Metadata.Name + " (" + dr.Spec.Host + ")"
}

// TestFoldKeyIsEqualFold checks foldKey against strings.EqualFold on every
// pair of a set of strings that fold, or almost fold, together.
func TestFoldKeyIsEqualFold(t *testing.T) {
	words := []string{"k", "K", "\u212a", "s", "S", "\u017f", "ss", "\u00df", "\u1e9e", "\u00e9", "\u00c9",
		"a.b", "A.B", "\xff", "\xfe", "", "\u03a3", "\u03c3", "\u03c2", "k\u212a", "KK"}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v; EqualFold says %v", a, b, got, want)
			}
		}
	}
}

// TestTargetIndexAgreesWithScan checks the chains a targetRef picks through
// indexTargets against a scan of every chain's servers, on random chains of
// one or several servers (the plain-HTTP chain has several) whose server and
// port names collide.
func TestTargetIndexAgreesWithScan(t *testing.T) {
	gws := []*model.Gateway{{}, {}, {}}
	names := []string{"", "a", "b", "https", "http"}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var chains []*chainInfo
		for range rng.IntN(10) {
			ci := &chainInfo{}
			for range 1 + rng.IntN(3) {
				srv := &model.Server{Name: names[rng.IntN(len(names))]}
				srv.Port.Name = names[rng.IntN(len(names))]
				ci.servers = append(ci.servers, &serverRef{gw: gws[rng.IntN(len(gws))], srv: srv})
			}
			chains = append(chains, ci)
		}
		b := &builder{targets: indexTargets(chains)}
		for _, gw := range gws {
			for _, section := range append(names, "zzz") {
				var want []*chainInfo
				for _, ci := range chains {
					if slices.ContainsFunc(ci.servers, func(s *serverRef) bool {
						return s.gw == gw && (section == "" || s.srv.Name == section || s.srv.Port.Name == section)
					}) {
						want = append(want, ci)
					}
				}
				if got := b.targetChains(gw, section); !slices.Equal(got, want) {
					t.Fatalf("round %d: section %q: %d chains, the scan gives %d", round, section, len(got), len(want))
				}
			}
		}
	}
}

// TestDomainsAgreeWithScan checks vsDomains and vsDomainHosts, which look a
// VirtualService's exact hosts up in a large server's index, against the
// scan of every server host with every VirtualService host, on random
// servers of 1 to 20 hosts (with namespace prefixes and wildcards) and
// VirtualServices of 1 to 4 hosts, in any case.
func TestDomainsAgreeWithScan(t *testing.T) {
	hosts := []string{"a.example.com", "A.example.com", "b.example.com", "x.a.example.com", "*.example.com",
		"*.a.example.com", "*", "c.other.org", "*.other.org", "10.0.0.1"}
	prefixes := []string{"", "web/", "./", "*/", "other/"}
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 500 {
		gw := &model.Gateway{}
		gw.Metadata.Namespace = "edge"
		s := &serverRef{gw: gw}
		for range 1 + rng.IntN(20) {
			s.hosts = append(s.hosts, parseServerHost(prefixes[rng.IntN(len(prefixes))]+hosts[rng.IntN(len(hosts))]))
		}
		vs := &model.VirtualService{}
		vs.Metadata.Namespace = []string{"web", "edge", "other"}[rng.IntN(3)]
		for range 1 + rng.IntN(4) {
			vs.Spec.Hosts = append(vs.Spec.Hosts, hosts[rng.IntN(len(hosts))])
		}
		var wantDomains []string
		best := map[string]string{}
		for _, sh := range s.hosts {
			if !admitsNamespace(sh, vs.Metadata.Namespace, gw.Metadata.Namespace) {
				continue
			}
			for _, h := range vs.Spec.Hosts {
				h = strings.ToLower(h)
				if d, ok := intersectHost(sh.host, h); ok {
					wantDomains = append(wantDomains, d)
					if prev, seen := best[d]; !seen || hostRank(h) > hostRank(prev) {
						best[d] = h
					}
				}
			}
		}
		wantDomains = sortedUnique(wantDomains)
		var wantHosts []domainHost
		for _, d := range wantDomains {
			wantHosts = append(wantHosts, domainHost{domain: d, host: best[d]})
		}
		if got := vsDomains(vs, s); !slices.Equal(got, wantDomains) {
			t.Fatalf("round %d: vsDomains = %q, the scan gives %q (server %v, VirtualService %q)", round, got, wantDomains, s.hosts, vs.Spec.Hosts)
		}
		if got := vsDomainHosts(vs, s); !slices.Equal(got, wantHosts) && len(got)+len(wantHosts) > 0 {
			t.Fatalf("round %d: vsDomainHosts = %v, the scan gives %v", round, got, wantHosts)
		}
	}
}

// TestCoveredNamesAgreeWithScan checks foreignNames, which looks the
// port's server names up in a domainIndex by the wildcard domains covering
// them, against
// testing every other chain's names with hostCovers, on random chains.
func TestCoveredNamesAgreeWithScan(t *testing.T) {
	pool := []string{"a.example.com", "b.example.com", "x.a.example.com", "*.example.com", "*.a.example.com",
		"*", "*.com", "c.other.org", "*.other.org", "example.com", "*x.example.com", "a.", "*."}
	rng := rand.New(rand.NewPCG(11, 12))
	for round := range 300 {
		var chains []*chainInfo
		for range 1 + rng.IntN(8) {
			ci := &chainInfo{chain: &ir.Chain{}, rc: &ir.RouteConfig{}}
			for range rng.IntN(3) {
				ci.chain.ServerNames = append(ci.chain.ServerNames, pool[rng.IntN(len(pool))])
			}
			vh := &ir.VirtualHost{}
			for range 1 + rng.IntN(3) {
				vh.Domains = append(vh.Domains, pool[rng.IntN(len(pool))])
			}
			ci.rc.VirtualHosts = []*ir.VirtualHost{vh}
			chains = append(chains, ci)
		}
		names := serverNames(chains)
		for i, ci := range chains {
			var want []string
			for _, d := range ci.rc.VirtualHosts[0].Domains {
				if !strings.HasPrefix(d, "*") {
					continue
				}
				for _, o := range chains {
					if o == ci {
						continue
					}
					for _, n := range o.chain.ServerNames {
						if hostCovers(d, n) {
							want = append(want, n)
						}
					}
				}
			}
			if got, want := foreignNames(ci, func() *domainIndex[*chainInfo] { return names }), sortedUnique(want); !slices.Equal(got, want) {
				t.Fatalf("round %d, chain %d: foreignNames = %q, the scan gives %q", round, i, got, want)
			}
		}
	}
}
