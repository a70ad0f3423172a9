package props

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options adjust a run of the properties. The zero value sends every probe
// the configuration suggests, which grows with the square of the number of
// hosts of a port; a bounded run keeps the probes per host constant.
type Options struct {
	// Clients are presented on every probe, besides those Synthesize makes.
	Clients []Client
	// Now is the time certificates and CRLs are judged at.
	Now time.Time
	// OtherHosts bounds how many host names of other servers of the port
	// are sent on each SNI's connections: those sharing the most labels
	// with the SNI (a wildcard over the other, siblings under one domain)
	// first. 0 sends every name, upper-cased and with the port too.
	OtherHosts int
	// OtherScopes bounds, per server, how many clients chained to other
	// servers' client CAs it meets besides its own (Client.Scope); 0
	// sends every client everywhere.
	OtherScopes int
	// MaxValues bounds the paths, methods and source addresses taken from
	// the policies for one server (0: all of them).
	MaxValues int
	// Synthesize makes the clients: twins of every client CA and CRL of
	// the resources, each with its own key, and certificates from them
	// (see Synthesize). Given clients are sent as well.
	Synthesize bool
}

// Bounded are the options `trustgate check` runs with.
func Bounded() Options {
	return Options{OtherHosts: 6, OtherScopes: 2, MaxValues: 12, Synthesize: true}
}

// Result is what a run found.
type Result struct {
	Violations []Violation
	// Probes counts the connections and requests explained; Validated
	// those whose client certificate Envoy's model verified.
	Probes, Validated int
	// Clients are the client chains that were presented.
	Clients []Client
	// Unverified are the servers asking for client certificates on whose
	// connections no client passed the model's verification: what a valid
	// client may do there went unprobed (pins no made client can match,
	// or SAN matchers none was made for).
	Unverified []*Server
}

// ScopeOf names a client CA bundle: clients whose Scope is this are
// chained to it.
func ScopeOf(roots []*x509.Certificate) string {
	ders := make([]string, len(roots))
	for i, r := range roots {
		ders[i] = string(r.Raw)
	}
	sort.Strings(ders)
	h := sha256.New()
	for _, d := range ders {
		h.Write([]byte(d))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// hostsFor are the Host headers sent on one SNI's connections: with no
// bound every name of the port in three spellings; bounded, the SNI's own
// name in those spellings and the nearest other names.
func (c *checker) hostsFor(pt portProbes, sni string) []string {
	names, port := pt.near.names, pt.port
	spell := func(n string) []string { return []string{n, strings.ToUpper(n), hostPort(n, port)} }
	if c.opts.OtherHosts == 0 || !pt.tls {
		hosts := append([]string{}, names...)
		for _, n := range names {
			hosts = append(hosts, strings.ToUpper(n), hostPort(n, port))
		}
		return append(hosts, "unknown.invalid")
	}
	var hosts []string
	own := -1
	for i, n := range names {
		if n == sni {
			own = i
			hosts = append(hosts, spell(n)...)
		}
	}
	return append(append(hosts, pt.near.nearest(sni, own, c.opts.OtherHosts)...), "unknown.invalid")
}

// hostPort is a name with a port.
func hostPort(n string, port uint32) string { return n + ":" + strconv.FormatUint(uint64(port), 10) }

// clientsFor are the clients presented on connections to a server: every
// client when none is scoped or no bound is set; else the unscoped ones,
// those of the server's own client CA, and the first client of up to
// OtherScopes other CAs (chosen after the server's own place, so that
// every CA is tried somewhere).
func (c *checker) clientsFor(s *Server) []Client {
	if c.opts.OtherScopes == 0 || !c.scoped {
		return c.clients
	}
	own := ""
	if s != nil && s.Validation != nil {
		own = ScopeOf(s.Validation.Roots)
	}
	var out []Client
	firstOf := map[string]int{}
	var scopes []string
	for i, cl := range c.clients {
		switch cl.Scope {
		case "", own:
			out = append(out, cl)
		default:
			if _, seen := firstOf[cl.Scope]; !seen {
				firstOf[cl.Scope] = i
				scopes = append(scopes, cl.Scope)
			}
		}
	}
	sort.Strings(scopes)
	start := sort.SearchStrings(scopes, own)
	for i := 0; i < len(scopes) && i < c.opts.OtherScopes; i++ {
		out = append(out, c.clients[firstOf[scopes[(start+i)%len(scopes)]]])
	}
	return out
}

// capped keeps the first MaxValues values (all without a bound).
func (c *checker) capped(vals []string) []string {
	if c.opts.MaxValues > 0 && len(vals) > c.opts.MaxValues {
		return vals[:c.opts.MaxValues]
	}
	return vals
}

// With is o presenting clients and judging at now.
func (o Options) With(clients []Client, now time.Time) Options {
	o.Clients, o.Now = clients, now
	return o
}
