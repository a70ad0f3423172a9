package translate

import (
	"fmt"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/ir"
)

// buildHCM is an HTTP chain's connection manager, routes over RDS.
func buildHCM(c *ir.Chain) (*listenerv3.Filter, error) {
	h := c.HTTP
	filters, err := httpFilters(c)
	if err != nil {
		return nil, err
	}
	m := &hcmv3.HttpConnectionManager{
		StatPrefix: h.StatPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsConfigSource(),
			RouteConfigName: h.RouteConfig,
		}},
		HttpFilters: filters,
		// At the edge, overwrite X-Forwarded-For/-Proto rather than trust
		// the client's (xff_num_trusted_hops stays 0).
		UseRemoteAddress: wrapperspb.Bool(h.UseRemoteAddress),
		// RBAC path rules see the path as the router will: normalized
		// (dot segments resolved), slashes merged, %2F/%5C unescaped with
		// a redirect, so a rule on /admin cannot be dodged with //admin,
		// /x/../admin or /admin%2Fx.
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		CommonHttpProtocolOptions:    commonHTTPOptions(c),
		Http2ProtocolOptions:         downstreamHTTP2(),
		StreamIdleTimeout:            durationpb.New(streamIdleTimeout),
		RequestHeadersTimeout:        durationpb.New(requestHeadersTimeout),
		// "Host: admin.example.com." must select the virtual host (and so
		// the 421) of admin.example.com: virtual host lookup is exact
		// (RouteMatcher::findVirtualHost), and this strips the dot first
		// (ConnectionManagerUtility::maybeNormalizeHost).
		StripTrailingHostDot: true,
		// WebSocket handshakes pass, as on Istio's gateways (listener_builder.go
		// in istio/istio pilot/pkg/networking/core). Without it Envoy answers
		// 403 to every "Upgrade: websocket": FilterManager::createFilterChain
		// (source/common/http/filter_manager.cc) finds no upgrade filter chain
		// and reports the upgrade rejected.
		UpgradeConfigs: []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: websocketUpgrade}},
	}
	if err := setXFCC(m, h.XFCC); err != nil {
		return nil, err
	}
	if m.AccessLog, err = requestAccessLogs(h.AccessLog); err != nil {
		return nil, err
	}
	return networkFilter(wellknown.HTTPConnectionManager, m)
}

// commonHTTPOptions rejects header names with underscores: some backends
// treat x_client_subject as x-client-subject, which would let a client slip
// an identity header past our removal of the dashed name. It also bounds a
// connection's life, since a CRL update only affects new handshakes.
func commonHTTPOptions(c *ir.Chain) *corev3.HttpProtocolOptions {
	o := &corev3.HttpProtocolOptions{
		HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
		IdleTimeout:                  durationpb.New(connectionIdleTimeout),
	}
	if c.MaxConnectionDuration > 0 {
		boundConnection(o, c.MaxConnectionDuration)
	}
	return o
}

// boundConnection bounds how long a connection, and each stream on it, is
// served. max_connection_duration alone only starts a drain:
// ConnectionManagerImpl::onConnectionDurationTimeout (source/common/http/
// conn_manager_impl.cc) calls startDrainSequence (GOAWAY, or Connection:
// close on HTTP/1.1), and the connection closes only when its last stream
// ends, so a WebSocket, gRPC stream or download outlives the bound.
// max_stream_duration ends each stream d after it started (ActiveStream's
// max_stream_duration_timer_, onStreamMaxDurationReached: a 408 before the
// response, a reset after). No route sets its own max_stream_duration, so
// refreshDurationTimeout keeps this one. A stream may still start during the
// drain, up to Envoy's drain_timeout (5 s, the HCM default) after d, so no
// request is served later than 2d + 5 s after the connection was accepted.
func boundConnection(o *corev3.HttpProtocolOptions, d time.Duration) {
	o.MaxConnectionDuration = durationpb.New(d)
	o.MaxStreamDuration = durationpb.New(d)
}

// setXFCC sets the x-forwarded-client-cert policy; nil keeps Envoy's
// default (SANITIZE).
func setXFCC(m *hcmv3.HttpConnectionManager, x *ir.XFCC) error {
	if x == nil {
		return nil
	}
	mode, ok := hcmv3.HttpConnectionManager_ForwardClientCertDetails_value[string(x.Mode)]
	if !ok {
		return fmt.Errorf("unknown XFCC mode %q", x.Mode)
	}
	m.ForwardClientCertDetails = hcmv3.HttpConnectionManager_ForwardClientCertDetails(mode)
	if x.Subject || x.URI || x.DNS || x.Cert || x.Chain {
		m.SetCurrentClientCertDetails = &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{
			Subject: wrapperspb.Bool(x.Subject),
			Uri:     x.URI,
			Dns:     x.DNS,
			Cert:    x.Cert,
			Chain:   x.Chain,
		}
	}
	return nil
}

// httpFilters sets the HTTP filter order, in this one place:
// set_filter_state (certificate fields for RBAC) -> RBAC DENY -> RBAC ALLOW
// -> CORS -> router. RBAC runs before the router, hence before any route's
// header mutations: rules see the request as the client sent it.
func httpFilters(c *ir.Chain) ([]*hcmv3.HttpFilter, error) {
	deny, allow, peers, err := chainRBAC(c, true)
	if err != nil {
		return nil, err
	}
	return buildSteps([]step[*hcmv3.HttpFilter]{
		{len(peers) > 0, func() (*hcmv3.HttpFilter, error) { return peerStateHTTPFilter(peers) }},
		{deny != nil, func() (*hcmv3.HttpFilter, error) { return rbacHTTPFilter(deny) }},
		{allow != nil, func() (*hcmv3.HttpFilter, error) { return rbacHTTPFilter(allow) }},
		{c.HTTP.CORS, corsFilter},
		{true, routerFilter},
	})
}

// step is one filter of a chain: built only when on.
type step[F any] struct {
	on    bool
	build func() (F, error)
}

// buildSteps builds the filters that are on, in order.
func buildSteps[F any](steps []step[F]) ([]F, error) {
	var out []F
	for _, s := range steps {
		if !s.on {
			continue
		}
		f, err := s.build()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// routerFilter is the terminal router filter.
func routerFilter() (*hcmv3.HttpFilter, error) {
	return httpFilter(wellknown.Router, &routerv3.Router{})
}

// httpFilter packs an HTTP filter's config.
func httpFilter(name string, cfg validatable) (*hcmv3.HttpFilter, error) {
	a, err := toAny(cfg)
	if err != nil {
		return nil, fmt.Errorf("http filter %s: %w", name, err)
	}
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}, nil
}

// networkFilter packs a network filter's config.
func networkFilter(name string, cfg validatable) (*listenerv3.Filter, error) {
	a, err := toAny(cfg)
	if err != nil {
		return nil, fmt.Errorf("network filter %s: %w", name, err)
	}
	return &listenerv3.Filter{Name: name, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}, nil
}
