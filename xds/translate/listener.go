package translate

import (
	"errors"
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/trustgate/trustgate/xds/ir"
)

// buildListener converts one port: its filter chains and, when a chain
// matches on SNI or transport protocol, the tls_inspector (Envoy no longer
// adds it implicitly, envoyproxy/envoy#14404).
func buildListener(l *ir.Listener) (*listenerv3.Listener, error) {
	addr := l.Address
	if addr == "" {
		addr = "0.0.0.0"
	}
	out := &listenerv3.Listener{
		Name:                          l.Name,
		Address:                       socketAddress(addr, l.Port),
		PerConnectionBufferLimitBytes: bufferLimit(),
	}
	var err error
	if out.AccessLog, err = connectionAccessLogs(l.AccessLog); err != nil {
		return nil, err
	}
	if l.TLSInspector {
		f, err := tlsInspector()
		if err != nil {
			return nil, err
		}
		out.ListenerFilters = []*listenerv3.ListenerFilter{f}
	}
	for _, c := range l.Chains {
		fc, err := buildFilterChain(c)
		if err != nil {
			return nil, fmt.Errorf("chain %q: %w", c.Name, err)
		}
		out.FilterChains = append(out.FilterChains, fc)
	}
	return out, nil
}

// tlsInspector is the listener filter that reads SNI and ALPN.
func tlsInspector() (*listenerv3.ListenerFilter, error) {
	a, err := toAny(&tlsinspectorv3.TlsInspector{})
	if err != nil {
		return nil, err
	}
	return &listenerv3.ListenerFilter{
		Name:       wellknown.TLSInspector,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: a},
	}, nil
}

// buildFilterChain converts one chain: its match, its TLS termination and
// its filters (HTTP connection manager or TCP proxy).
func buildFilterChain(c *ir.Chain) (*listenerv3.FilterChain, error) {
	out := &listenerv3.FilterChain{Name: c.Name}
	if names := matchedServerNames(c); len(names) > 0 || c.TransportProtocol != "" {
		out.FilterChainMatch = &listenerv3.FilterChainMatch{
			ServerNames:       names,
			TransportProtocol: c.TransportProtocol,
		}
	}
	if c.TLS != nil {
		ctx, err := buildDownstreamTLS(c.TLS)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		if out.TransportSocket, err = tlsTransportSocket(ctx); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
	}
	filters, err := chainFilters(c)
	if err != nil {
		return nil, err
	}
	out.Filters = filters
	return out, nil
}

// chainFilters is a chain's network filters: the HTTP connection manager or
// the TCP proxy with its RBAC.
func chainFilters(c *ir.Chain) ([]*listenerv3.Filter, error) {
	switch {
	case c.HTTP != nil && c.TCP != nil:
		return nil, errors.New("both HTTP and TCP are set")
	case c.HTTP != nil:
		f, err := buildHCM(c)
		if err != nil {
			return nil, err
		}
		return []*listenerv3.Filter{f}, nil
	case c.TCP != nil:
		return tcpFilters(c)
	}
	return nil, errors.New("neither HTTP nor TCP is set")
}

// matchedServerNames are the SNI names the chain's filter_chain_match lists:
// none for a port's default server, which takes any SNI and none (an empty
// server_names matches every connection, FilterChainManagerImpl::
// findFilterChainForServerName).
func matchedServerNames(c *ir.Chain) []string {
	if c.DefaultServer {
		return nil
	}
	return c.ServerNames
}
