package envoymodel

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sync"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// Options adjust the model.
type Options struct {
	// Now is the time certificates and CRLs are judged at (default:
	// time.Now at New).
	Now time.Time
}

// Model is a compiled set of Envoy resources, ready to explain any number
// of connections. It is safe for concurrent use once built.
type Model struct {
	now       time.Time
	listeners []*listener
	routes    map[string]*routev3.RouteConfiguration
	clusters  map[string]*clusterv3.Cluster
	secrets   map[string]*tlsv3.Secret
	// compiled guards regexes and formats: most are compiled by New, but a
	// server's SAN matchers and some header formats on their first
	// handshake or request, and Explain may run on several goroutines
	// (props checks on every core).
	compiled sync.RWMutex
	regexes  map[string]*regexp.Regexp
	formats  map[string]*format
	// sigs, validations, peers, chains and stages memoize (memo.go).
	sigs        *sigMemo
	validations sync.Map // *tlsv3.DownstreamTlsContext -> validationMemo
	peers       sync.Map // client certificate DER -> *peerCert
	chains      sync.Map // socketKey -> chainChoice
	stages      sync.Map // addrKey -> *addrStage
}

// listener is one Listener resource, its filter chains parsed.
type listener struct {
	name      string
	addr      netip.Addr // unspecified for 0.0.0.0 / ::
	port      uint32
	inspector bool
	chains    []*chain
	fallback  *chain // default_filter_chain
}

// chain is one filter chain with its transport socket and network filters
// unpacked.
type chain struct {
	name    string
	match   *listenerv3.FilterChainMatch
	tls     *tlsv3.DownstreamTlsContext // nil: raw_buffer
	filters []*networkFilter
	// keys (nameKeys) and serverURIs (serverURISANs) are computed once.
	keysOnce, urisOnce sync.Once
	keys, serverURIs   []string
}

// New compiles resources. It fails on anything Envoy would reject that the
// model checks (regexes, formatters, references it needs) and on every
// construct the model does not implement.
func New(res *Resources, opts Options) (*Model, error) {
	m := &Model{
		now:      opts.Now,
		routes:   map[string]*routev3.RouteConfiguration{},
		clusters: map[string]*clusterv3.Cluster{},
		secrets:  map[string]*tlsv3.Secret{},
		regexes:  map[string]*regexp.Regexp{},
		formats:  map[string]*format{},
		sigs:     &sigMemo{},
	}
	if m.now.IsZero() {
		m.now = time.Now()
	}
	var errs []error
	for _, r := range res.Routes {
		m.routes[r.GetName()] = r
	}
	for _, c := range res.Clusters {
		m.clusters[c.GetName()] = c
	}
	for _, s := range res.Secrets {
		m.secrets[s.GetName()] = s
	}
	for _, l := range res.Listeners {
		pl, err := m.parseListener(l)
		if err != nil {
			errs = append(errs, fmt.Errorf("listener %q: %w", l.GetName(), err))
			continue
		}
		m.listeners = append(m.listeners, pl)
	}
	for _, r := range res.Routes {
		if err := m.compileRouteConfig(r); err != nil {
			errs = append(errs, fmt.Errorf("route configuration %q: %w", r.GetName(), err))
		}
	}
	for _, c := range res.Clusters {
		if err := checkCluster(c); err != nil {
			errs = append(errs, fmt.Errorf("cluster %q: %w", c.GetName(), err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// errUnsupported marks a construct the model does not implement.
var errUnsupported = errors.New("not modelled")

// unsupported reports a construct the model does not implement.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnsupported, fmt.Sprintf(format, args...))
}

// parseListener unpacks a listener's address, listener filters and chains.
func (m *Model) parseListener(l *listenerv3.Listener) (*listener, error) {
	sa := l.GetAddress().GetSocketAddress()
	if sa == nil {
		return nil, unsupported("a listener address that is not a socket address")
	}
	if sa.GetProtocol() != corev3.SocketAddress_TCP {
		return nil, unsupported("protocol %s", sa.GetProtocol())
	}
	out := &listener{name: l.GetName(), port: sa.GetPortValue()}
	if a, err := netip.ParseAddr(sa.GetAddress()); err == nil && !a.IsUnspecified() {
		out.addr = a
	} else if err != nil {
		return nil, fmt.Errorf("address %q: %w", sa.GetAddress(), err)
	}
	if len(l.GetAdditionalAddresses()) > 0 || l.GetFilterChainMatcher() != nil {
		return nil, unsupported("additional addresses or a filter_chain_matcher")
	}
	for _, f := range l.GetListenerFilters() {
		if f.GetName() != "envoy.filters.listener.tls_inspector" &&
			f.GetTypedConfig().GetTypeUrl() != typeURLPrefix+"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" {
			return nil, unsupported("listener filter %q", f.GetName())
		}
		out.inspector = true
	}
	for _, fc := range l.GetFilterChains() {
		c, err := m.parseChain(fc)
		if err != nil {
			return nil, fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
		}
		out.chains = append(out.chains, c)
	}
	if err := checkDuplicateMatches(out); err != nil {
		return nil, err
	}
	if d := l.GetDefaultFilterChain(); d != nil {
		c, err := m.parseChain(d)
		if err != nil {
			return nil, fmt.Errorf("default filter chain: %w", err)
		}
		out.fallback = c
	}
	return out, nil
}

// parseChain unpacks one filter chain.
func (m *Model) parseChain(fc *listenerv3.FilterChain) (*chain, error) {
	if err := checkChainMatch(fc.GetFilterChainMatch()); err != nil {
		return nil, err
	}
	out := &chain{name: fc.GetName(), match: fc.GetFilterChainMatch()}
	if ts := fc.GetTransportSocket(); ts != nil {
		ctx := &tlsv3.DownstreamTlsContext{}
		if err := unpack(ts.GetTypedConfig(), ctx); err != nil {
			return nil, fmt.Errorf("transport socket %q: %w", ts.GetName(), err)
		}
		if err := checkDownstreamTLS(ctx); err != nil {
			return nil, err
		}
		out.tls = ctx
	}
	for i, f := range fc.GetFilters() {
		nf, err := m.parseNetworkFilter(f)
		if err != nil {
			return nil, fmt.Errorf("filters[%d] %q: %w", i, f.GetName(), err)
		}
		out.filters = append(out.filters, nf)
	}
	if len(out.filters) == 0 {
		return nil, errors.New("no network filters")
	}
	return out, nil
}

// checkChainMatch refuses the match fields the model does not implement and
// the partial wildcards Envoy rejects (filter_chain_manager_impl.cc,
// FilterChainManagerImpl::setupFilterChainMatcher).
func checkChainMatch(fm *listenerv3.FilterChainMatch) error {
	if fm == nil {
		return nil
	}
	if len(fm.GetSourcePrefixRanges())+len(fm.GetDirectSourcePrefixRanges())+len(fm.GetSourcePorts()) > 0 ||
		fm.GetSourceType() != listenerv3.FilterChainMatch_ANY {
		return unsupported("filter_chain_match on the source")
	}
	if fm.GetAddressSuffix() != "" || fm.GetSuffixLen() != nil {
		return errors.New("address_suffix/suffix_len: Envoy rejects these unimplemented fields")
	}
	for _, p := range fm.GetPrefixRanges() {
		if _, err := cidrPrefix(p); err != nil {
			return err
		}
	}
	for _, n := range fm.GetServerNames() {
		if containsByte(n, '*') && !isWildcardServerName(n) {
			return fmt.Errorf("server name %q: Envoy rejects partial wildcards in server_names", n)
		}
	}
	return nil
}

// checkCluster refuses clusters whose upstream TLS the model cannot read.
func checkCluster(c *clusterv3.Cluster) error {
	ts := c.GetTransportSocket()
	if ts == nil {
		return nil
	}
	return unpack(ts.GetTypedConfig(), &tlsv3.UpstreamTlsContext{})
}

// containsByte reports whether s holds b.
func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}
