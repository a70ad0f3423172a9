package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSectionIndexAgreesWithScan checks the validator's indexes of a
// Gateway's servers by section and of the policies that give a client CA
// against scans of every server and every policy, on random Gateways whose
// server and port names collide (one server may carry the same name twice).
func TestSectionIndexAgreesWithScan(t *testing.T) {
	names := []string{"", "a", "b", "https"}
	inSection := func(s *Server, section string) bool {
		return section == "" || s.Name == section || s.Port.Name == section
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		c := &Config{}
		for i := range 1 + rng.IntN(3) {
			g := &Gateway{}
			g.Metadata.Namespace, g.Metadata.Name = "edge", fmt.Sprintf("gw-%d", i)
			for range rng.IntN(6) {
				s := Server{Name: names[rng.IntN(len(names))]}
				s.Port.Name = names[rng.IntN(len(names))]
				g.Spec.Servers = append(g.Spec.Servers, s)
			}
			c.Gateways = append(c.Gateways, g)
		}
		for range rng.IntN(5) {
			p := &ClientCertificatePolicy{}
			p.Metadata.Namespace = []string{"edge", "other"}[rng.IntN(2)]
			p.Spec.TargetRef.Kind = []string{"Gateway", "Service"}[rng.IntN(2)]
			p.Spec.TargetRef.Name = fmt.Sprintf("gw-%d", rng.IntN(4))
			p.Spec.TargetRef.SectionName = names[rng.IntN(len(names))]
			if rng.IntN(3) > 0 {
				p.Spec.ClientCA = "ca"
			}
			c.ClientCertificatePolicies = append(c.ClientCertificatePolicies, p)
		}
		v := newValidator(c)
		for _, g := range c.Gateways {
			for _, section := range append(names, "zzz") {
				var want []*Server
				for i := range g.Spec.Servers {
					if inSection(&g.Spec.Servers[i], section) {
						want = append(want, &g.Spec.Servers[i])
					}
				}
				if got := v.inSection(g, section); !slices.Equal(got, want) {
					t.Fatalf("round %d: %s section %q: %d servers, the scan gives %d", round, g.Metadata.Name, section, len(got), len(want))
				}
			}
			for i := range g.Spec.Servers {
				s := &g.Spec.Servers[i]
				want := slices.ContainsFunc(c.ClientCertificatePolicies, func(p *ClientCertificatePolicy) bool {
					gw, section := policyKey(p)
					return p.Spec.ClientCA != "" && p.Spec.TargetRef.Kind == "Gateway" &&
						gw == g.Metadata.Namespace+"/"+g.Metadata.Name && inSection(s, section)
				})
				if got := v.policyClientCA(g, s); got != want {
					t.Fatalf("round %d: policyClientCA(%s, server %d) = %v, the scan gives %v", round, g.Metadata.Name, i, got, want)
				}
			}
		}
	}
}
