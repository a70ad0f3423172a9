package envoymodel

import (
	"errors"
	"fmt"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	sfsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	sfshttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_filter_state/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacnetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	sfsnetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// typeURLPrefix starts every type URL of a packed config.
const typeURLPrefix = "type.googleapis.com/"

// unpack unpacks a typed config into msg, refusing any other type.
func unpack(a *anypb.Any, msg proto.Message) error {
	if a == nil {
		return errors.New("no typed_config")
	}
	want := typeURLPrefix + string(msg.ProtoReflect().Descriptor().FullName())
	if a.GetTypeUrl() != want {
		return unsupported("typed config %s (want %s)", strings.TrimPrefix(a.GetTypeUrl(), typeURLPrefix), strings.TrimPrefix(want, typeURLPrefix))
	}
	return a.UnmarshalTo(msg)
}

// typeName is the message name in a typed config.
func typeName(a *anypb.Any) string { return strings.TrimPrefix(a.GetTypeUrl(), typeURLPrefix) }

// networkFilter is one network filter, its config unpacked.
type networkFilter struct {
	name string
	sfs  *sfsnetv3.Config
	rbac *rbacnetv3.RBAC
	tcp  *tcpv3.TcpProxy
	hcm  *httpManager
}

// httpManager is an HTTP connection manager with its HTTP filters.
type httpManager struct {
	cfg     *hcmv3.HttpConnectionManager
	filters []*httpFilter
}

// httpFilter is one HTTP filter, its config unpacked.
type httpFilter struct {
	name   string
	sfs    *sfshttpv3.Config
	rbac   *rbachttpv3.RBAC
	cors   bool
	router bool
}

// parseNetworkFilter unpacks one network filter by its config's type.
func (m *Model) parseNetworkFilter(f *listenerv3.Filter) (*networkFilter, error) {
	out := &networkFilter{name: f.GetName()}
	a := f.GetTypedConfig()
	switch typeName(a) {
	case "envoy.extensions.filters.network.set_filter_state.v3.Config":
		out.sfs = &sfsnetv3.Config{}
		if err := unpack(a, out.sfs); err != nil {
			return nil, err
		}
		return out, m.compileFilterStateValues(append(out.sfs.GetOnNewConnection(), out.sfs.GetOnDownstreamTlsHandshake()...))
	case "envoy.extensions.filters.network.rbac.v3.RBAC":
		out.rbac = &rbacnetv3.RBAC{}
		if err := unpack(a, out.rbac); err != nil {
			return nil, err
		}
		if out.rbac.GetMatcher() != nil || out.rbac.GetShadowMatcher() != nil {
			return nil, unsupported("RBAC matcher trees")
		}
		return out, m.compileRBAC(out.rbac.GetRules(), out.rbac.GetShadowRules())
	case "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy":
		out.tcp = &tcpv3.TcpProxy{}
		return out, unpack(a, out.tcp)
	case "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager":
		cfg := &hcmv3.HttpConnectionManager{}
		if err := unpack(a, cfg); err != nil {
			return nil, err
		}
		h, err := m.parseHCM(cfg)
		out.hcm = h
		return out, err
	}
	return nil, unsupported("network filter type %s", typeName(a))
}

// parseHCM unpacks an HTTP connection manager and checks the settings the
// model implements.
func (m *Model) parseHCM(cfg *hcmv3.HttpConnectionManager) (*httpManager, error) {
	switch {
	case cfg.GetScopedRoutes() != nil:
		return nil, unsupported("scoped routes")
	case cfg.GetXffNumTrustedHops() > 0:
		return nil, unsupported("xff_num_trusted_hops > 0")
	case cfg.GetStripMatchingHostPort():
		return nil, unsupported("strip_matching_host_port")
	case cfg.GetRouteConfig() != nil:
		if err := m.compileRouteConfig(cfg.GetRouteConfig()); err != nil {
			return nil, fmt.Errorf("inline route_config: %w", err)
		}
	case cfg.GetRds() == nil:
		return nil, errors.New("neither rds nor route_config")
	}
	out := &httpManager{cfg: cfg}
	for i, f := range cfg.GetHttpFilters() {
		hf, err := m.parseHTTPFilter(f)
		if err != nil {
			return nil, fmt.Errorf("http_filters[%d] %q: %w", i, f.GetName(), err)
		}
		out.filters = append(out.filters, hf)
	}
	if len(out.filters) == 0 || !out.filters[len(out.filters)-1].router {
		return nil, errors.New("the last HTTP filter must be the router (Envoy rejects the listener otherwise)")
	}
	return out, nil
}

// parseHTTPFilter unpacks one HTTP filter.
func (m *Model) parseHTTPFilter(f *hcmv3.HttpFilter) (*httpFilter, error) {
	if f.GetIsOptional() || f.GetDisabled() || f.GetConfigDiscovery() != nil {
		return nil, unsupported("optional, disabled or discovered HTTP filters")
	}
	out := &httpFilter{name: f.GetName()}
	a := f.GetTypedConfig()
	switch typeName(a) {
	case "envoy.extensions.filters.http.set_filter_state.v3.Config":
		out.sfs = &sfshttpv3.Config{}
		if err := unpack(a, out.sfs); err != nil {
			return nil, err
		}
		return out, m.compileFilterStateValues(out.sfs.GetOnRequestHeaders())
	case "envoy.extensions.filters.http.rbac.v3.RBAC":
		out.rbac = &rbachttpv3.RBAC{}
		if err := unpack(a, out.rbac); err != nil {
			return nil, err
		}
		if out.rbac.GetMatcher() != nil || out.rbac.GetShadowMatcher() != nil {
			return nil, unsupported("RBAC matcher trees")
		}
		return out, m.compileRBAC(out.rbac.GetRules(), out.rbac.GetShadowRules())
	case "envoy.extensions.filters.http.cors.v3.Cors":
		out.cors = true
		return out, unpack(a, &corsv3.Cors{})
	case "envoy.extensions.filters.http.router.v3.Router":
		out.router = true
		r := &routerv3.Router{}
		if err := unpack(a, r); err != nil {
			return nil, err
		}
		if len(r.GetUpstreamHttpFilters()) > 0 {
			return nil, unsupported("upstream HTTP filters")
		}
		return out, nil
	}
	return nil, unsupported("HTTP filter type %s", typeName(a))
}

// compileFilterStateValues compiles the formatters of set_filter_state
// values and refuses the value kinds the model does not implement.
func (m *Model) compileFilterStateValues(values []*sfsv3.FilterStateValue) error {
	for _, v := range values {
		if v.GetObjectKey() == "" {
			return unsupported("set_filter_state without an object_key")
		}
		fs := v.GetFormatString()
		if fs == nil || len(fs.GetFormatters()) > 0 {
			return unsupported("set_filter_state value %q without a plain format_string", v.GetObjectKey())
		}
		text, err := formatText(fs)
		if err != nil {
			return fmt.Errorf("set_filter_state %q: %w", v.GetObjectKey(), err)
		}
		if err := m.compileFormat(text); err != nil {
			return fmt.Errorf("set_filter_state %q: %w", v.GetObjectKey(), err)
		}
	}
	return nil
}

// compileRBAC compiles the regexes and checks the matcher kinds of rule
// sets.
func (m *Model) compileRBAC(sets ...*rbacv3.RBAC) error {
	for _, rules := range sets {
		if rules == nil {
			continue
		}
		if rules.GetAuditLoggingOptions() != nil {
			return unsupported("RBAC audit logging")
		}
		for name, p := range rules.GetPolicies() {
			if p.GetCondition() != nil || p.GetCheckedCondition() != nil {
				return unsupported("policy %q: CEL conditions", name)
			}
			for _, perm := range p.GetPermissions() {
				if err := m.compilePermission(perm); err != nil {
					return fmt.Errorf("policy %q: %w", name, err)
				}
			}
			for _, prin := range p.GetPrincipals() {
				if err := m.compilePrincipal(prin); err != nil {
					return fmt.Errorf("policy %q: %w", name, err)
				}
			}
		}
	}
	return nil
}

// compileRouteConfig compiles a route configuration's regexes, formatters
// and per-filter configs, and refuses what the model does not implement.
func (m *Model) compileRouteConfig(rc *routev3.RouteConfiguration) error {
	if rc.GetVhds() != nil || len(rc.GetClusterSpecifierPlugins()) > 0 || rc.GetVhostHeader() != "" {
		return unsupported("VHDS, cluster specifier plugins or vhost_header")
	}
	if err := m.compileHeaderOps(rc.GetRequestHeadersToAdd()); err != nil {
		return err
	}
	if err := m.compilePerFilter(rc.GetTypedPerFilterConfig()); err != nil {
		return err
	}
	for _, vh := range rc.GetVirtualHosts() {
		if err := m.compileVirtualHost(vh); err != nil {
			return fmt.Errorf("virtual host %q: %w", vh.GetName(), err)
		}
	}
	return checkDomains(rc)
}
