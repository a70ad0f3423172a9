package compile_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/trustgate/trustgate/xds/translate"
)

// envoyView answers, for translated resources, what Envoy decides at
// request time about the parts these tests are about: which filter chain a
// TLS connection lands on, which virtual host a request selects, and which
// request headers reach the backend. Each step follows the Envoy function
// named in its comment (v1.35/v1.36).
type envoyView struct {
	listeners map[uint32]*listenerv3.Listener
	routes    map[string]*routev3.RouteConfiguration
}

func newEnvoyView(res *translate.Resources) *envoyView {
	v := &envoyView{listeners: map[uint32]*listenerv3.Listener{}, routes: map[string]*routev3.RouteConfiguration{}}
	for _, l := range res.Listeners {
		v.listeners[l.GetAddress().GetSocketAddress().GetPortValue()] = l
	}
	for _, rc := range res.Routes {
		v.routes[rc.GetName()] = rc
	}
	return v
}

// chain is the filter chain Envoy picks on port for a TLS ClientHello
// carrying sni ("" for none), as FilterChainManagerImpl::
// findFilterChainForServerName does (source/common/listener_manager/
// filter_chain_manager_impl.cc): the exact server name, else the longest
// "*.suffix" (tried from the left, one label at a time), else the chains
// without server names; among those, findFilterChainForTransportProtocol
// prefers transport_protocol "tls" to an empty one.
func (v *envoyView) chain(port uint32, sni string) *listenerv3.FilterChain {
	l := v.listeners[port]
	if l == nil {
		return nil
	}
	byName := map[string][]*listenerv3.FilterChain{}
	for _, fc := range l.GetFilterChains() {
		names := fc.GetFilterChainMatch().GetServerNames()
		if len(names) == 0 {
			byName[""] = append(byName[""], fc)
		}
		for _, n := range names {
			byName[strings.TrimPrefix(n, "*")] = append(byName[strings.TrimPrefix(n, "*")], fc)
		}
	}
	if fcs, ok := byName[sni]; ok {
		return byTransport(fcs)
	}
	for pos := dotFrom(sni, 1); pos >= 0 && pos < len(sni)-1; pos = dotFrom(sni, pos+1) {
		if fcs, ok := byName[sni[pos:]]; ok {
			return byTransport(fcs)
		}
	}
	return byTransport(byName[""])
}

// dotFrom is std::string::find('.', from): the index of the first '.' at or
// after from, -1 when there is none.
func dotFrom(s string, from int) int {
	if from >= len(s) {
		return -1
	}
	if i := strings.IndexByte(s[from:], '.'); i >= 0 {
		return from + i
	}
	return -1
}

// byTransport picks, for a TLS connection, the chain matching transport
// protocol "tls", else one without a transport protocol.
func byTransport(fcs []*listenerv3.FilterChain) *listenerv3.FilterChain {
	for _, want := range []string{"tls", ""} {
		for _, fc := range fcs {
			if fc.GetFilterChainMatch().GetTransportProtocol() == want {
				return fc
			}
		}
	}
	return nil
}

// hcmOf is the chain's HTTP connection manager, nil for a TCP chain.
func hcmOf(t *testing.T, fc *listenerv3.FilterChain) *hcmv3.HttpConnectionManager {
	t.Helper()
	for _, f := range fc.GetFilters() {
		if f.GetName() != wellknown.HTTPConnectionManager {
			continue
		}
		m := &hcmv3.HttpConnectionManager{}
		if err := f.GetTypedConfig().UnmarshalTo(m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return nil
}

// routeConfig is the chain's route configuration (nil for a TCP chain).
func (v *envoyView) routeConfig(t *testing.T, fc *listenerv3.FilterChain) (*hcmv3.HttpConnectionManager, *routev3.RouteConfiguration) {
	t.Helper()
	h := hcmOf(t, fc)
	if h == nil {
		return nil, nil
	}
	rc := v.routes[h.GetRds().GetRouteConfigName()]
	if rc == nil {
		t.Fatalf("chain %s: route configuration %q missing", fc.GetName(), h.GetRds().GetRouteConfigName())
	}
	return h, rc
}

// normalizeHost is what the connection manager does to the Host before
// routing (ConnectionManagerUtility::maybeNormalizeHost, source/common/http/
// conn_manager_utility.cc): HeaderUtility::stripTrailingHostDot when
// strip_trailing_host_dot is set.
func normalizeHost(h *hcmv3.HttpConnectionManager, host string) string {
	if h.GetStripTrailingHostDot() {
		dot := strings.LastIndex(host, ".")
		switch {
		case dot < 0:
		case dot == len(host)-1:
			host = host[:dot]
		case host[dot+1] == ':':
			host = host[:dot] + host[dot+1:]
		}
	}
	return host
}

// portStart is HeaderUtility::getPortStart: the last ':' outside an IPv6
// literal's brackets, -1 when there is none.
func portStart(host string) int {
	i := strings.LastIndex(host, ":")
	if i < 0 {
		return -1
	}
	if end := strings.LastIndex(host, "]"); end >= 0 && end > i {
		return -1
	}
	return i
}

// virtualHost is the virtual host RouteMatcher::findVirtualHost picks
// (source/common/router/config_impl.cc) for host after normalizeHost: the
// port dropped when ignore_port_in_host_matching is set, lower-cased; then
// an exact domain, the longest suffix wildcard shorter than the host, the
// longest prefix wildcard, and finally "*". nil when nothing matches.
func virtualHost(h *hcmv3.HttpConnectionManager, rc *routev3.RouteConfiguration, host string) *routev3.VirtualHost {
	host = normalizeHost(h, host)
	if rc.GetIgnorePortInHostMatching() {
		if i := portStart(host); i >= 0 {
			host = host[:i]
		}
	}
	host = strings.ToLower(host)
	type wild struct {
		affix string
		vh    *routev3.VirtualHost
	}
	var suffixes, prefixes []wild
	var star *routev3.VirtualHost
	for _, vh := range rc.GetVirtualHosts() {
		for _, d := range vh.GetDomains() {
			d = strings.ToLower(d)
			switch {
			case d == "*":
				star = vh
			case strings.HasPrefix(d, "*"):
				suffixes = append(suffixes, wild{d[1:], vh})
			case strings.HasSuffix(d, "*"):
				prefixes = append(prefixes, wild{d[:len(d)-1], vh})
			case d == host:
				return vh
			}
		}
	}
	longestFirst := func(ws []wild) {
		sort.SliceStable(ws, func(i, j int) bool { return len(ws[i].affix) > len(ws[j].affix) })
	}
	longestFirst(suffixes)
	longestFirst(prefixes)
	for _, w := range suffixes {
		if len(w.affix) < len(host) && strings.HasSuffix(host, w.affix) {
			return w.vh
		}
	}
	for _, w := range prefixes {
		if len(w.affix) < len(host) && strings.HasPrefix(host, w.affix) {
			return w.vh
		}
	}
	return star
}

// forwards reports whether some route of vh sends requests to a cluster.
func forwards(vh *routev3.VirtualHost) bool {
	return slices.ContainsFunc(vh.GetRoutes(), func(r *routev3.Route) bool { return r.GetRoute() != nil })
}

// headerLevel is one level of request header mutations.
type headerLevel struct {
	remove []string
	add    []*corev3.HeaderValueOption
}

// headerPaths lists, for each way a request can leave vh towards a
// cluster, the header levels it passes in the order Envoy evaluates them
// with most_specific_header_mutations_wins unset: the weighted cluster
// (WeightedClusterEntry::finalizeRequestHeaders runs its own parser first),
// then the route, the virtual host and the route configuration
// (RouteEntryImplBase::finalizeRequestHeaders).
func headerPaths(rc *routev3.RouteConfiguration, vh *routev3.VirtualHost) map[string][]headerLevel {
	out := map[string][]headerLevel{}
	tail := []headerLevel{
		{vh.GetRequestHeadersToRemove(), vh.GetRequestHeadersToAdd()},
		{rc.GetRequestHeadersToRemove(), rc.GetRequestHeadersToAdd()},
	}
	for _, r := range vh.GetRoutes() {
		a := r.GetRoute()
		if a == nil {
			continue
		}
		route := headerLevel{r.GetRequestHeadersToRemove(), r.GetRequestHeadersToAdd()}
		if a.GetCluster() != "" {
			out[r.GetName()] = append([]headerLevel{route}, tail...)
		}
		for _, wc := range a.GetWeightedClusters().GetClusters() {
			own := headerLevel{wc.GetRequestHeadersToRemove(), wc.GetRequestHeadersToAdd()}
			out[r.GetName()+"->"+wc.GetName()] = append([]headerLevel{own, route}, tail...)
		}
	}
	return out
}

// peerFormatter starts every formatter that reads the client certificate.
const peerFormatter = "%DOWNSTREAM_PEER_"

// applyHeaders runs levels over headers as HeaderParser::evaluateHeaders
// does (source/common/router/header_parser.cc): removes first, then adds;
// a value that formats to nothing is not added. A certificate formatter
// yields "from-certificate" when withCert is set and nothing otherwise.
func applyHeaders(headers map[string][]string, levels []headerLevel, withCert bool) {
	for _, l := range levels {
		for _, name := range l.remove {
			delete(headers, name)
		}
		for _, o := range l.add {
			key, value := strings.ToLower(o.GetHeader().GetKey()), o.GetHeader().GetValue()
			if strings.Contains(value, peerFormatter) {
				value = ""
				if withCert {
					value = "from-certificate"
				}
			}
			if value == "" {
				continue
			}
			switch o.GetAppendAction() {
			case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
				headers[key] = append(headers[key], value)
			case corev3.HeaderValueOption_ADD_IF_ABSENT:
				if len(headers[key]) == 0 {
					headers[key] = []string{value}
				}
			case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
				if len(headers[key]) > 0 {
					headers[key] = []string{value}
				}
			case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
				headers[key] = []string{value}
			}
		}
	}
}
