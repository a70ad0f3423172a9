package server

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trustgate/trustgate/xds/dump"
)

// AdminHandler serves the admin endpoints:
//
//	/healthz                        200 while the process runs
//	/readyz                         200 once a configuration loaded, else 503
//	/metrics                        Prometheus metrics
//	/debug/config?node-labels=k=v   the resources a group gets as Envoy's ConfigDump, keys redacted (dump.DebugHandler)
//	/debug/proxies                  connected proxies, versions, NACKs (JSON)
//	/debug/reload                   the last reload and the groups (JSON)
//
// Requests whose Host is not an IP address, localhost or one of
// Options.AdminHosts are refused (see allowedHost).
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			text(w, http.StatusServiceUnavailable, "no configuration loaded yet; see /debug/reload")
			return
		}
		text(w, http.StatusOK, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	mux.Handle("GET /debug/config", dump.DebugHandler(func() dump.Compiler { return s.groups.config() }))
	mux.HandleFunc("GET /debug/proxies", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, s.proxies.status())
	})
	mux.HandleFunc("GET /debug/reload", func(w http.ResponseWriter, _ *http.Request) {
		st := s.reloads.status()
		st.Groups = s.groups.status()
		writeJSON(w, st)
	})
	return s.checkHost(mux)
}

// checkHost refuses requests for other host names with 403. A web page on a
// name its author controls can make a browser send requests to 127.0.0.1 by
// re-resolving the name (DNS rebinding); the browser then sends that name as
// Host, and the same-origin policy lets the page read the answers —
// /debug/config included. Such a page cannot make the browser send an IP
// address or "localhost" as its Host.
func (s *Server) checkHost(next http.Handler) http.Handler {
	allowed := map[string]bool{"localhost": true}
	for _, h := range s.opts.AdminHosts {
		allowed[canonicalHost(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowedHost(r.Host, allowed) {
			s.hostRefusals.warn("admin_host", "admin request refused: Host is not an IP address, localhost or an --admin-host name",
				"host", clip(r.Host), "path", clip(r.URL.Path), "peer", r.RemoteAddr)
			text(w, http.StatusForbidden, fmt.Sprintf("Host %q is not served here: use an IP address or localhost, or allow the name with --admin-host", clip(r.Host)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedHost reports whether a Host header (with or without a port) is an
// IP address or an allowed name. An empty Host (HTTP/1.0) is no browser's.
func allowedHost(hostport string, allowed map[string]bool) bool {
	if hostport == "" {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true
	}
	return allowed[canonicalHost(host)]
}

// canonicalHost lower-cases a name and drops a trailing dot.
func canonicalHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg) // the client went away; nothing to do
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		text(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n')) // the client went away; nothing to do
}
