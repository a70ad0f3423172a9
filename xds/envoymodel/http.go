package envoymodel

import (
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// envoyInternalHeaders are removed from every external request
// (ConnectionManagerUtility::cleanInternalHeaders; the first three only on
// edge requests, which every request is here: use_remote_address with no
// internal addresses).
var envoyInternalHeaders = []string{
	"x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
	"x-envoy-retriable-status-codes", "x-envoy-retriable-header-names", "x-envoy-retry-on",
	"x-envoy-retry-grpc-on", "x-envoy-max-retries", "x-envoy-upstream-alt-stat-name",
	"x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms",
	"x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms",
	"x-envoy-force-trace", "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout",
	"x-envoy-internal",
}

// http runs the HTTP connection manager: the codec's checks, the request
// header mutations, path and host normalization, the route lookup and the
// HTTP filters (source/common/http/conn_manager_impl.cc,
// ConnectionManagerImpl::ActiveStream::decodeHeaders).
func (r *run) http(hm *httpManager) {
	cfg := hm.cfg
	h := newHeaderMap(r.req, r.t.Peer.TLS)
	r.currentHeaders = h
	if !r.codec(cfg, h) {
		return
	}
	r.mutateRequestHeaders(cfg, h)
	switch action, notes := normalizePath(cfg, h); action {
	case pathReject:
		r.step("hcm", "source/common/http/conn_manager_utility.cc, ConnectionManagerUtility::maybeNormalizePath", "%s", strings.Join(notes, "; "))
		r.end(DirectResponse, 400, "the path is rejected: "+strings.Join(notes, "; "))
		return
	case pathRedirect:
		p, _ := h.get(":path")
		r.t.Location = p
		r.end(DirectResponse, 307, "path_with_escaped_slashes_action UNESCAPE_AND_REDIRECT: "+strings.Join(notes, "; "))
		return
	default:
		if len(notes) > 0 {
			r.step("hcm", "source/common/http/conn_manager_utility.cc, ConnectionManagerUtility::maybeNormalizePath", "%s", strings.Join(notes, "; "))
		}
	}
	normalizeHost(cfg, h)
	rc := r.routeConfig(cfg)
	if rc == nil {
		return
	}
	r.t.RouteConfig = rc.GetName()
	sel := r.selectRoute(rc, h)
	r.httpFilters(hm, sel, h)
}

// codec applies headers_with_underscores_action
// (source/common/http/http1/codec_impl.cc and http2/codec_impl.cc): ALLOW
// by default, DROP_HEADER drops such headers, REJECT_REQUEST answers 400.
func (r *run) codec(cfg *hcmv3.HttpConnectionManager, h *headerMap) bool {
	action := cfg.GetCommonHttpProtocolOptions().GetHeadersWithUnderscoresAction()
	for _, n := range h.names() {
		if !strings.Contains(n, "_") || strings.HasPrefix(n, ":") {
			continue
		}
		switch action {
		case corev3.HttpProtocolOptions_REJECT_REQUEST:
			r.end(DirectResponse, 400, fmt.Sprintf("header %q has an underscore: rejected by the codec (headers_with_underscores_action REJECT_REQUEST)", n))
			return false
		case corev3.HttpProtocolOptions_DROP_HEADER:
			h.remove(n)
			r.step("hcm", "", "header %q dropped (headers_with_underscores_action DROP_HEADER)", n)
		}
	}
	return true
}

// mutateRequestHeaders is ConnectionManagerUtility::mutateRequestHeaders:
// with use_remote_address the client's address is appended to
// x-forwarded-for and x-forwarded-proto is overwritten; Envoy's internal
// headers are removed; then x-forwarded-client-cert
// (mutateXfccRequestHeader).
func (r *run) mutateRequestHeaders(cfg *hcmv3.HttpConnectionManager, h *headerMap) {
	scheme := "http"
	if r.t.Peer.TLS {
		scheme = "https"
	}
	if cfg.GetUseRemoteAddress().GetValue() {
		if r.conn.SourceIP.IsValid() {
			if xff, ok := h.get("x-forwarded-for"); ok {
				h.set("x-forwarded-for", xff+","+r.conn.SourceIP.String())
			} else {
				h.set("x-forwarded-for", r.conn.SourceIP.String())
			}
			h.set("x-envoy-external-address", r.conn.SourceIP.String())
		}
		h.set("x-forwarded-proto", scheme)
	} else if _, ok := h.get("x-forwarded-proto"); !ok {
		h.set("x-forwarded-proto", scheme)
	}
	for _, n := range envoyInternalHeaders {
		h.remove(n)
	}
	r.xfcc(cfg, h)
}

// xfcc is mutateXfccRequestHeader: SANITIZE (the default), or any mode on
// a connection without a presented client certificate, removes the
// client's header; FORWARD_ONLY keeps it; APPEND_FORWARD and SANITIZE_SET
// append or set this hop's element: By (the server's URI SANs), Hash, then
// the configured Cert, Chain, Subject, URI and DNS.
func (r *run) xfcc(cfg *hcmv3.HttpConnectionManager, h *headerMap) {
	const src = "source/common/http/conn_manager_utility.cc, ConnectionManagerUtility::mutateXfccRequestHeader"
	mode := cfg.GetForwardClientCertDetails()
	if mode == hcmv3.HttpConnectionManager_ALWAYS_FORWARD_ONLY {
		return
	}
	if mode == hcmv3.HttpConnectionManager_SANITIZE || !r.t.Peer.Presented {
		if _, ok := h.get("x-forwarded-client-cert"); ok {
			r.step("hcm", src, "removed the client's x-forwarded-client-cert")
		}
		h.remove("x-forwarded-client-cert")
		return
	}
	if mode == hcmv3.HttpConnectionManager_FORWARD_ONLY {
		return
	}
	p := r.hs.peer
	var parts []string
	for _, u := range r.serverURISANs() {
		parts = append(parts, "By="+u)
	}
	parts = append(parts, "Hash="+p.sha256)
	d := cfg.GetSetCurrentClientCertDetails()
	if d.GetCert() {
		parts = append(parts, `Cert="`+p.urlPEM+`"`)
	}
	if d.GetChain() {
		parts = append(parts, `Chain="`+r.chainURLPEM()+`"`)
	}
	if d.GetSubject().GetValue() {
		parts = append(parts, `Subject="`+p.subject+`"`)
	}
	if d.GetUri() {
		if len(p.uris) == 0 {
			parts = append(parts, "URI=")
		}
		for _, u := range p.uris {
			parts = append(parts, "URI="+u)
		}
	}
	if d.GetDns() {
		for _, n := range p.dns {
			parts = append(parts, "DNS="+n)
		}
	}
	v := strings.Join(parts, ";")
	if mode == hcmv3.HttpConnectionManager_APPEND_FORWARD {
		if old, ok := h.get("x-forwarded-client-cert"); ok {
			v = old + "," + v
		}
	}
	h.set("x-forwarded-client-cert", v)
	r.step("hcm", src, "x-forwarded-client-cert (%s): %s", mode, v)
}

// chainURLPEM is the URL-encoded PEM of the client's whole chain.
func (r *run) chainURLPEM() string {
	var b strings.Builder
	for _, c := range r.conn.ClientChain {
		b.WriteString(r.m.peerCert(c).urlPEM)
	}
	return b.String()
}

// serverURISANs are the URI SANs of the filter chain's first server
// certificate, XFCC's By (uriSanLocalCertificate).
func (r *run) serverURISANs() []string {
	c := r.chain
	c.urisOnce.Do(func() { c.serverURIs = r.m.chainURISANs(c) })
	return c.serverURIs
}

// chainURISANs are the URI SANs of a chain's server certificate.
func (m *Model) chainURISANs(c *chain) []string {
	common := c.tls.GetCommonTlsContext()
	var pemData []byte
	if sds := common.GetTlsCertificateSdsSecretConfigs(); len(sds) > 0 {
		pemData, _ = dataSource(m.secrets[sds[0].GetName()].GetTlsCertificate().GetCertificateChain())
	} else if certs := common.GetTlsCertificates(); len(certs) > 0 {
		pemData, _ = dataSource(certs[0].GetCertificateChain())
	}
	certs, err := parseCerts(pemData)
	if err != nil || len(certs) == 0 {
		return nil
	}
	var out []string
	for _, u := range certs[0].URIs {
		out = append(out, u.String())
	}
	return out
}

// normalizeHost is ConnectionManagerUtility::maybeNormalizeHost:
// strip_trailing_host_dot, then strip_any_host_port
// (strip_matching_host_port is refused by New).
func normalizeHost(cfg *hcmv3.HttpConnectionManager, h *headerMap) {
	host, _ := h.get(":authority")
	if cfg.GetStripTrailingHostDot() {
		if i := portStart(host); i >= 0 && strings.HasSuffix(host[:i], ".") {
			host = host[:i-1] + host[i:]
		} else if i < 0 {
			host = strings.TrimSuffix(host, ".")
		}
	}
	if cfg.GetStripAnyHostPort() {
		if i := portStart(host); i >= 0 {
			host = host[:i]
		}
	}
	h.set(":authority", host)
}

// routeConfig is the chain's route configuration, from RDS or inline.
func (r *run) routeConfig(cfg *hcmv3.HttpConnectionManager) *routev3.RouteConfiguration {
	if rc := cfg.GetRouteConfig(); rc != nil {
		return rc
	}
	name := cfg.GetRds().GetRouteConfigName()
	rc, ok := r.m.routes[name]
	if !ok {
		r.end(ConnectionClosed, 0, fmt.Sprintf("route configuration %q has not arrived: the listener stays warming and takes no connections", name))
		return nil
	}
	return rc
}

// selection is what route resolution found.
type selection struct {
	rc    *routev3.RouteConfiguration
	vh    *routev3.VirtualHost
	route *routev3.Route
	ssl   bool // require_tls redirect
}

// selectRoute finds the virtual host and the route.
func (r *run) selectRoute(rc *routev3.RouteConfiguration, h *headerMap) selection {
	sel := selection{rc: rc}
	host, _ := h.get(":authority")
	vh, why := findVirtualHost(rc, host)
	if vh == nil {
		r.step("route", "source/common/router/config_impl.cc, RouteMatcher::findVirtualHost", "no virtual host of %s matches host %q", rc.GetName(), host)
		return sel
	}
	sel.vh = vh
	r.t.VirtualHost = vh.GetName()
	r.step("route", "source/common/router/config_impl.cc, RouteMatcher::findVirtualHost", "host %q selects virtual host %q by %s", host, vh.GetName(), why)
	res := r.m.findRoute(vh, h, r.t.Peer)
	switch {
	case res.sslRedirect:
		sel.ssl = true
		r.step("route", "source/common/router/config_impl.cc, VirtualHostImpl::getRouteFromEntries", "%s", res.why)
	case res.route == nil:
		r.step("route", "source/common/router/config_impl.cc, VirtualHostImpl::getRouteFromEntries", "no route of virtual host %q matches", vh.GetName())
	default:
		sel.route = res.route
		r.t.Route = res.route.GetName()
		r.step("route", "source/common/router/config_impl.cc, RouteEntryImplBase::matchRoute", "route %q matches (%s)", res.route.GetName(), res.why)
	}
	return sel
}
