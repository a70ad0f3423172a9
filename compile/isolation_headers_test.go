package compile_test

import (
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/trustgate/trustgate/xds/translate"
)

// identitySource is a virtual host that fills identity headers: the
// headers, the hosts it serves and the clusters it forwards to.
type identitySource struct {
	names    []string
	domains  []string
	clusters []string
}

// identityNames are the request headers vh fills from the client
// certificate at any level (virtual host, route, weighted cluster), plus
// ingress-nginx's ssl-client-verify.
func identityNames(vh *routev3.VirtualHost) []string {
	var out []string
	collect := func(adds []*corev3.HeaderValueOption) {
		for _, o := range adds {
			if k := strings.ToLower(o.GetHeader().GetKey()); strings.Contains(o.GetHeader().GetValue(), peerFormatter) || k == "ssl-client-verify" {
				out = append(out, k)
			}
		}
	}
	collect(vh.GetRequestHeadersToAdd())
	for _, r := range vh.GetRoutes() {
		collect(r.GetRequestHeadersToAdd())
		for _, wc := range r.GetRoute().GetWeightedClusters().GetClusters() {
			collect(wc.GetRequestHeadersToAdd())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// clustersOf are the clusters vh forwards to.
func clustersOf(vh *routev3.VirtualHost) []string {
	var out []string
	for _, r := range vh.GetRoutes() {
		if c := r.GetRoute().GetCluster(); c != "" {
			out = append(out, c)
		}
		for _, wc := range r.GetRoute().GetWeightedClusters().GetClusters() {
			out = append(out, wc.GetName())
		}
	}
	return out
}

// identitySources lists every virtual host of res that fills identity
// headers.
func identitySources(res *translate.Resources) []identitySource {
	var out []identitySource
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			if names := identityNames(vh); len(names) > 0 {
				out = append(out, identitySource{names, vh.GetDomains(), clustersOf(vh)})
			}
		}
	}
	return out
}

// strippedNames are the identity headers vh must drop from the client: those
// configured for a host vh can route, or for a backend vh forwards to.
func strippedNames(sources []identitySource, vh *routev3.VirtualHost) []string {
	var out []string
	mine := clustersOf(vh)
	for _, s := range sources {
		overlap := slices.ContainsFunc(s.domains, func(d string) bool {
			return slices.ContainsFunc(vh.GetDomains(), func(e string) bool { return covers(d, e) || covers(e, d) })
		})
		shared := slices.ContainsFunc(s.clusters, func(c string) bool { return slices.Contains(mine, c) })
		if overlap || shared {
			out = append(out, s.names...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestIdentityHeadersStripped sends a forged copy of every identity header
// down every path from every virtual host to a backend, with and without a
// client certificate, through Envoy's order of header mutations: no forged
// value arrives, whichever port, server or route the request took, and
// every value the path fills from the certificate does.
func TestIdentityHeadersStripped(t *testing.T) {
	failures, paths := 0, 0
	for _, c := range isolationCases() {
		res := c.translate(t)
		sources := identitySources(res)
		for _, rc := range res.Routes {
			for _, vh := range rc.GetVirtualHosts() {
				names := strippedNames(sources, vh)
				for path, levels := range headerPaths(rc, vh) {
					for _, withCert := range []bool{false, true} {
						paths++
						headers := map[string][]string{}
						for _, n := range names {
							headers[n] = []string{"forged"}
						}
						applyHeaders(headers, levels, withCert)
						for _, n := range names {
							if slices.Contains(headers[n], "forged") {
								failures++
								t.Errorf("%v\n  %s %s via %s (certificate: %v): the client's %s reaches the backend", c, rc.GetName(), vh.GetName(), path, withCert, n)
							}
						}
						for _, n := range fromCertificate(levels) {
							if withCert && !slices.Contains(headers[n], "from-certificate") {
								failures++
								t.Errorf("%v\n  %s %s via %s: %s, set from the certificate on this path, does not reach the backend", c, rc.GetName(), vh.GetName(), path, n)
							}
						}
						if failures > 20 {
							t.Fatal("too many failures")
						}
					}
				}
			}
		}
	}
	if paths == 0 {
		t.Fatal("no path checked")
	}
}

// fromCertificate are the headers some level of a path fills from the
// client certificate.
func fromCertificate(levels []headerLevel) []string {
	var out []string
	for _, l := range levels {
		for _, o := range l.add {
			if strings.Contains(o.GetHeader().GetValue(), peerFormatter) {
				out = append(out, strings.ToLower(o.GetHeader().GetKey()))
			}
		}
	}
	return out
}
