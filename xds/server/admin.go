package server

import (
	"encoding/json"
	"fmt"
	"net/http"

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
	return mux
}

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
