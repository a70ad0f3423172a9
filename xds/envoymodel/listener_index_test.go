package envoymodel

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestFilterChainIndexEqualsScan: filter-chain matching through the
// destination-address stage and its server-name index (addrStage) picks
// the chain, and says why none, exactly as the pass over every chain it
// replaced (findFilterChainScan, kept here as the oracle), on a listener
// of exact and wildcard names, names listed twice, chains without names,
// ports, prefixes, transports and ALPN, with and without a default chain,
// for random connections. Envoy's own vectors are TestEnvoyFilterChainVectors.
func TestFilterChainIndexEqualsScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"a.example.com", "b.example.com", "*.example.com", "*.b.example.com", "*.com", "x.test", "*.test", "A.Example.Com"}
	for _, withDefault := range []bool{false, true} {
		l := &listener{}
		for i := range 300 {
			fm := &listenerv3.FilterChainMatch{}
			switch rng.IntN(4) {
			case 0: // no names
			case 1:
				fm.ServerNames = []string{names[rng.IntN(len(names))]}
			case 2:
				n := names[rng.IntN(len(names))]
				fm.ServerNames = []string{n, n} // listed twice
			default:
				fm.ServerNames = []string{names[rng.IntN(len(names))], fmt.Sprintf("h%d.example.com", i)}
			}
			if rng.IntN(3) == 0 {
				fm.DestinationPort = wrapperspb.UInt32(uint32(443 + rng.IntN(2)))
			}
			if rng.IntN(4) == 0 {
				fm.PrefixRanges = []*corev3.CidrRange{{AddressPrefix: "10.0.0.0", PrefixLen: wrapperspb.UInt32(uint32(8 + 8*rng.IntN(3)))}}
			}
			if rng.IntN(2) == 0 {
				fm.TransportProtocol = []string{"tls", "raw_buffer"}[rng.IntN(2)]
			}
			if rng.IntN(3) == 0 {
				fm.ApplicationProtocols = []string{[]string{"h2", "http/1.1"}[rng.IntN(2)]}
			}
			l.chains = append(l.chains, &chain{name: fmt.Sprintf("c%d", i), match: fm})
		}
		if withDefault {
			l.fallback = &chain{name: "default", match: &listenerv3.FilterChainMatch{}}
		}
		snis := []string{"", "a.example.com", "b.example.com", "c.b.example.com", "z.example.com", "x.test", "y.test", "other.org", "com", "h7.example.com", "h150.example.com", "a.example.com."}
		for range 5000 {
			s := socket{
				local:     netip.MustParseAddr([]string{"10.0.0.1", "10.1.2.3", "192.168.0.1"}[rng.IntN(3)]),
				port:      uint32(443 + rng.IntN(3)),
				sni:       snis[rng.IntN(len(snis))],
				transport: []string{"tls", "raw_buffer"}[rng.IntN(2)],
				alpn:      [][]string{nil, {"h2"}, {"http/1.1", "h2"}}[rng.IntN(3)],
			}
			want, wantWhy := findFilterChainScan(l, s)
			got, gotWhy := findFilterChain(l, s)
			if got != want || gotWhy != wantWhy {
				t.Fatalf("default %v, %+v: chain %v (%q), the scan %v (%q)", withDefault, s, nameOf(got), gotWhy, nameOf(want), wantWhy)
			}
		}
	}
}

func nameOf(c *chain) string {
	if c == nil {
		return "none"
	}
	return c.name
}

// findFilterChainScan is findFilterChain as it was before the server-name
// index: every step after the port a pass over the candidates.
func findFilterChainScan(l *listener, s socket) (*chain, string) {
	cands := byDestinationPort(l.chains, s.port)
	for _, step := range []func([]*chain, socket) ([]*chain, string){byDestinationIP, byServerNameScan, byTransport, byALPN} {
		var why string
		cands, why = step(cands, s)
		if len(cands) == 0 {
			if l.fallback != nil {
				return l.fallback, why + "; the default filter chain takes it"
			}
			return nil, why
		}
	}
	return cands[0], ""
}

func byServerNameScan(cands []*chain, s socket) ([]*chain, string) {
	pick := func(key string) []*chain {
		var out []*chain
		for _, c := range cands {
			for _, n := range c.nameKeys() {
				if n == key {
					out = append(out, c)
					break
				}
			}
		}
		return out
	}
	if out := pick(s.sni); len(out) > 0 {
		return out, ""
	}
	// Wildcards from the longest suffix: ".b.example.com", then
	// ".example.com", then ".com" for "a.b.example.com".
	for pos := indexFrom(s.sni, '.', 1); pos >= 0 && pos < len(s.sni)-1; pos = indexFrom(s.sni, '.', pos+1) {
		if out := pick(s.sni[pos:]); len(out) > 0 {
			return out, ""
		}
	}
	if out := pick(""); len(out) > 0 {
		return out, ""
	}
	if s.sni == "" {
		return nil, "no filter chain matches a connection without SNI (every chain names server_names)"
	}
	return nil, fmt.Sprintf("no filter chain matches SNI %q", s.sni)
}

// TestDestinationPortCommits: once a chain names the connection's port,
// the chains naming no port are out, even when only they match the SNI; a
// miss falls to the default chain ("instead of matching catch-all port 0,
// the fallback filter chain is returned": FilterChainManagerImpl::
// findFilterChain in source/common/listener_manager/
// filter_chain_manager_impl.cc). The scan above shares this step, so it is
// checked here on its own.
func TestDestinationPortCommits(t *testing.T) {
	l := &listener{chains: []*chain{
		{name: "port-443", match: &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(443), ServerNames: []string{"a.example.com"}}},
		{name: "any-port", match: &listenerv3.FilterChainMatch{ServerNames: []string{"b.example.com"}}},
	}}
	local := netip.MustParseAddr("10.0.0.1")
	for _, c := range []struct {
		port     uint32
		sni      string
		fallback bool
		want     string
	}{
		{port: 443, sni: "a.example.com", want: "port-443"},
		{port: 443, sni: "b.example.com", want: "none"},
		{port: 443, sni: "b.example.com", fallback: true, want: "default"},
		{port: 444, sni: "b.example.com", want: "any-port"},
	} {
		l.fallback = nil
		if c.fallback {
			l.fallback = &chain{name: "default", match: &listenerv3.FilterChainMatch{}}
		}
		got, why := findFilterChain(l, socket{local: local, port: c.port, sni: c.sni, transport: "tls"})
		if nameOf(got) != c.want {
			t.Errorf("port %d, SNI %s, default %v: chain %s (%s), want %s", c.port, c.sni, c.fallback, nameOf(got), why, c.want)
		}
	}
}
