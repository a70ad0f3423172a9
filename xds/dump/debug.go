package dump

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/trustgate/trustgate/xds/server/labels"
	"github.com/trustgate/trustgate/xds/translate"
)

// Compiler is a loaded configuration: the resources of the proxy group with
// the given node labels.
type Compiler interface {
	Compile(nodeLabels map[string]string) (*translate.Resources, error)
}

// selectorLister is implemented by a Compiler that knows the label sets its
// Gateways select (compile.Config).
type selectorLister interface {
	Selectors() []map[string]string
}

// DebugHandler serves the admin page /debug/config: the resources the
// proxies with the labels given get from current() (nil before the first
// configuration loaded), sensitive fields always redacted.
//
//	?node-labels=k=v,...       the proxy group (default: no labels)
//	?layout=resources          trustgate's document instead of Envoy's ConfigDump
//	?format=yaml               YAML instead of JSON
//
// Labels that no Gateway selects get 404 and the label sets the Gateways
// do select, rather than an empty dump.
func DebugHandler(current func() Compiler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		l, err := labels.Parse(q.Get("node-labels"))
		if err != nil {
			text(w, http.StatusBadRequest, err.Error())
			return
		}
		layout, err := ParseLayout(q.Get("layout"))
		if err != nil {
			text(w, http.StatusBadRequest, err.Error())
			return
		}
		format := q.Get("format")
		if format == "" {
			format = "json"
		}
		if format != "json" && format != "yaml" {
			text(w, http.StatusBadRequest, fmt.Sprintf("format must be json or yaml, not %q", format))
			return
		}
		code, body, err := debugDump(current(), l, layout, format)
		if err != nil {
			text(w, code, err.Error())
			return
		}
		w.Header().Set("Content-Type", map[string]string{"json": "application/json", "yaml": "application/yaml"}[format])
		_, _ = w.Write(body) // the client went away; nothing to do
	})
}

// debugDump compiles and renders one group; on failure it returns the HTTP
// status that fits the error.
func debugDump(cfg Compiler, l map[string]string, layout Layout, format string) (int, []byte, error) {
	if cfg == nil {
		return http.StatusServiceUnavailable, nil, errors.New("no configuration loaded yet; see /debug/reload")
	}
	if sl, ok := cfg.(selectorLister); ok {
		if err := CheckSelected(sl.Selectors(), l); err != nil {
			return http.StatusNotFound, nil, fmt.Errorf("%w; ask for one with ?node-labels=k=v,k2=v2", err)
		}
	}
	res, err := cfg.Compile(l)
	if err != nil {
		return http.StatusUnprocessableEntity, nil, err
	}
	b, err := Render(res, layout, format, false)
	if err != nil {
		return http.StatusInternalServerError, nil, err
	}
	return http.StatusOK, b, nil
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg) // the client went away; nothing to do
}
