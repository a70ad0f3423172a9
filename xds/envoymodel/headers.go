package envoymodel

import (
	"fmt"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// headerMap is a request's headers in order, names lower-cased as Envoy's
// header map keys them (LowerCaseString). Pseudo-headers (:authority,
// :path, :method, :scheme) live in it too.
type headerMap struct {
	entries []Header
}

// newHeaderMap makes a header map of a request as the codec delivers it.
func newHeaderMap(req *Request, tls bool) *headerMap {
	h := &headerMap{}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	path := req.Path
	if path == "" {
		path = "/"
	}
	h.add(":method", method)
	h.add(":path", path)
	h.add(":authority", req.Authority)
	scheme := "http"
	if tls {
		scheme = "https"
	}
	h.add(":scheme", scheme)
	for _, hd := range req.Headers {
		name := asciiLower(hd.Name)
		if name == "host" {
			// HTTP/1's Host becomes :authority (http1/codec_impl.cc).
			h.set(":authority", hd.Value)
			continue
		}
		h.add(name, hd.Value)
	}
	return h
}

// clone copies the map.
func (h *headerMap) clone() *headerMap {
	return &headerMap{entries: append([]Header(nil), h.entries...)}
}

// values are every value of name, in order.
func (h *headerMap) values(name string) []string {
	name = asciiLower(name)
	var out []string
	for _, e := range h.entries {
		if e.Name == name {
			out = append(out, e.Value)
		}
	}
	return out
}

// get is the first value of name ("" when absent).
func (h *headerMap) get(name string) (string, bool) {
	v := h.values(name)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// add appends a value (HeaderMapImpl::addReferenceKey).
func (h *headerMap) add(name, value string) {
	h.entries = append(h.entries, Header{Name: asciiLower(name), Value: value})
}

// set replaces every value of name by one (HeaderMapImpl::setReferenceKey:
// remove, then add).
func (h *headerMap) set(name, value string) {
	name = asciiLower(name)
	for i, e := range h.entries {
		if e.Name == name {
			h.entries[i].Value = value
			h.removeAfter(name, i)
			return
		}
	}
	h.add(name, value)
}

// removeAfter drops the values of name after index i.
func (h *headerMap) removeAfter(name string, i int) {
	out := h.entries[:i+1]
	for _, e := range h.entries[i+1:] {
		if e.Name != name {
			out = append(out, e)
		}
	}
	h.entries = out
}

// remove drops every value of name.
func (h *headerMap) remove(name string) {
	name = asciiLower(name)
	out := h.entries[:0]
	for _, e := range h.entries {
		if e.Name != name {
			out = append(out, e)
		}
	}
	h.entries = out
}

// names are the distinct header names, sorted.
func (h *headerMap) names() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range h.entries {
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, e.Name)
		}
	}
	sort.Strings(out)
	return out
}

// flat renders the map as name → values joined with "," (how Envoy joins a
// repeated header for matching, getAllOfHeaderAsString).
func (h *headerMap) flat() map[string]string {
	out := map[string]string{}
	for _, n := range h.names() {
		out[n] = strings.Join(h.values(n), ",")
	}
	return out
}

// headerOps are one level's request_headers_to_add and _to_remove.
type headerOps struct {
	level  string
	add    []*corev3.HeaderValueOption
	remove []string
}

// empty reports whether the level changes nothing.
func (o headerOps) empty() bool { return len(o.add) == 0 && len(o.remove) == 0 }

// evaluateHeaders is Envoy's HeaderParser::evaluateHeaders
// (source/common/router/header_parser.cc): removals first, then every
// formatter is evaluated against the headers as they are after the
// removals; a value that formats to "" is skipped unless keep_empty_value;
// overwrites are applied before appends. It returns the steps it took.
func (m *Model) evaluateHeaders(o headerOps, h *headerMap, ctx *formatContext) []string {
	var notes []string
	for _, name := range o.remove {
		if _, ok := h.get(name); ok {
			notes = append(notes, fmt.Sprintf("removed %s", asciiLower(name)))
		}
		h.remove(name)
	}
	type kv struct{ k, v string }
	var overwrite, add []kv
	for _, opt := range o.add {
		key := asciiLower(opt.GetHeader().GetKey())
		raw := opt.GetHeader().GetValue()
		if raw == "" && len(opt.GetHeader().GetRawValue()) > 0 {
			raw = string(opt.GetHeader().GetRawValue())
		}
		value := m.compiledFormat(raw).eval(ctx)
		if value == "" && !opt.GetKeepEmptyValue() {
			notes = append(notes, fmt.Sprintf("did not add %s: %q formats to nothing", key, raw))
			continue
		}
		switch appendAction(opt) {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			add = append(add, kv{key, value})
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if _, ok := h.get(key); !ok {
				add = append(add, kv{key, value})
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if _, ok := h.get(key); ok {
				overwrite = append(overwrite, kv{key, value})
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			overwrite = append(overwrite, kv{key, value})
		}
	}
	for _, e := range overwrite {
		h.set(e.k, e.v)
		notes = append(notes, fmt.Sprintf("set %s: %s", e.k, e.v))
	}
	for _, e := range add {
		h.add(e.k, e.v)
		notes = append(notes, fmt.Sprintf("appended %s: %s", e.k, e.v))
	}
	return notes
}

// appendAction is a HeaderValueOption's action, honouring the deprecated
// append field as HeadersToAddEntry's constructor does (append true:
// APPEND_IF_EXISTS_OR_ADD, false: OVERWRITE_IF_EXISTS_OR_ADD).
func appendAction(opt *corev3.HeaderValueOption) corev3.HeaderValueOption_HeaderAppendAction {
	if opt.GetAppend() != nil { //nolint:staticcheck // SA1019: Envoy honours the deprecated append (HeadersToAddEntry)
		if opt.GetAppend().GetValue() { //nolint:staticcheck // SA1019: as above
			return corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
		return corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	}
	return opt.GetAppendAction()
}

// compileHeaderOps compiles the formatters of header values and refuses
// what Envoy refuses (HeaderParser::configure: no :-prefixed or host
// header may be added or removed).
func (m *Model) compileHeaderOps(adds []*corev3.HeaderValueOption, removes ...string) error {
	for _, opt := range adds {
		key := asciiLower(opt.GetHeader().GetKey())
		if strings.HasPrefix(key, ":") || key == "host" {
			return fmt.Errorf("header %q: Envoy rejects :-prefixed or host headers here", key)
		}
		raw := opt.GetHeader().GetValue()
		if raw == "" && len(opt.GetHeader().GetRawValue()) > 0 {
			raw = string(opt.GetHeader().GetRawValue())
		}
		if err := m.compileFormat(raw); err != nil {
			return fmt.Errorf("header %q: %w", key, err)
		}
	}
	for _, r := range removes {
		if l := asciiLower(r); strings.HasPrefix(l, ":") || l == "host" {
			return fmt.Errorf("header %q: Envoy rejects removing :-prefixed or host headers", r)
		}
	}
	return nil
}
