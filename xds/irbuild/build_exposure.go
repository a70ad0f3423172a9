package irbuild

import (
	"fmt"
	"github.com/trustgate/trustgate/xds/ir"
	"strings"
)

// maxListedHosts bounds the hosts one warning names.
const maxListedHosts = 5

// serverPair is a server that routes a host without a client certificate
// and a server that requires one for it.
type serverPair struct {
	weak, strong *serverRef
}

// warnUnprotectedHosts warns when a host that a MUTUAL or OPTIONAL_MUTUAL
// server routes to a backend is also routed to a backend, on another port,
// without a client certificate: by a plaintext server without
// httpsRedirect, or by a SIMPLE server. A client then reaches the host by
// simply using that port. (On one port, confineHosts already keeps each
// host to the server SNI picks.)
func (b *builder) warnUnprotectedHosts(chains []*chainInfo) {
	// The weak virtual hosts first: most gateways have none, and then the
	// index of every strong domain (10,000 at 10,000 mTLS hosts) is not
	// built at all.
	type weakHost struct {
		ci *chainInfo
		vh *ir.VirtualHost
	}
	var weak []weakHost
	for _, ci := range chains {
		if ci.rc == nil || (ci.chain.TLS != nil && ci.chain.TLS.Mode != ir.TLSSimple) {
			continue
		}
		for _, vh := range ci.rc.VirtualHosts {
			if !vh.RequireTLS && forwardsAny(vh) {
				weak = append(weak, weakHost{ci, vh})
			}
		}
	}
	if len(weak) == 0 {
		return
	}
	strong := newDomainIndex[*chainInfo]()
	for _, ci := range chains {
		if ci.rc != nil && ci.chain.TLS != nil && ci.chain.TLS.Mode != ir.TLSSimple {
			for _, vh := range ci.rc.VirtualHosts {
				if forwardsAny(vh) {
					for _, d := range vh.Domains {
						strong.add(d, ci)
					}
				}
			}
		}
	}
	hosts := map[serverPair][]string{}
	for _, w := range weak {
		ci, vh := w.ci, w.vh
		for _, d := range vh.Domains {
			strong.overlapping(d, func(sd string, sci *chainInfo) {
				if chainPort(sci) == chainPort(ci) {
					return
				}
				h, _ := intersectHost(sd, d)
				for _, ws := range b.vhostServers[vh] {
					p := serverPair{weak: ws, strong: sci.servers[0]}
					hosts[p] = append(hosts[p], h)
				}
			})
		}
	}
	for p, hs := range hosts {
		b.warnUnprotected(p, sortedUnique(hs))
	}
}

// warnUnprotected words one warning, on the server that needs the fix.
func (b *builder) warnUnprotected(p serverPair, hosts []string) {
	how, fix := "in plaintext", "set tls.httpsRedirect: true on this server, or remove the host from it"
	if p.weak.kind != kindHTTP {
		how, fix = "over TLS without asking for a client certificate (SIMPLE)", "remove the host from this server, or make it "+p.strong.mode
	}
	b.warnf(&p.weak.gw.Object, p.weak.path, "%s served with %s on port %d by %s, but this server routes %s to a backend %s on port %d, where a client needs no certificate: %s",
		listHosts(hosts), p.strong.mode, listenPort(p.strong.srv), serverDesc(p.strong), pronoun(hosts), how, listenPort(p.weak.srv), fix)
}

// listHosts names up to maxListedHosts hosts: `host "a"` or `hosts "a", "b"
// and 3 more`.
func listHosts(hosts []string) string {
	shown := hosts
	if len(shown) > maxListedHosts {
		shown = shown[:maxListedHosts]
	}
	q := make([]string, len(shown))
	for i, h := range shown {
		q[i] = fmt.Sprintf("%q", h)
	}
	if len(hosts) == 1 {
		return "host " + q[0] + " is"
	}
	out := "hosts " + strings.Join(q, ", ")
	if more := len(hosts) - len(shown); more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	return out + " are"
}

// pronoun is "it" or "them".
func pronoun(hosts []string) string {
	if len(hosts) == 1 {
		return "it"
	}
	return "them"
}

// chainPort is the port a chain listens on.
func chainPort(ci *chainInfo) uint32 { return listenPort(ci.servers[0].srv) }

// forwardsAny reports whether some route of vh forwards to a backend.
func forwardsAny(vh *ir.VirtualHost) bool {
	for _, r := range vh.Routes {
		if r.Forward != nil {
			return true
		}
	}
	return false
}
