package irbuild

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// peerFormatterPrefix starts every Envoy formatter that reads the client
// certificate.
const peerFormatterPrefix = "%DOWNSTREAM_PEER_"

// headerOps converts a VirtualService's header operations. A request
// ":authority" (or "host") set is returned as authority, to become a host
// rewrite as in Istio; other pseudo-headers are rejected.
func (b *builder) headerOps(obj *model.Object, path string, h *model.Headers) (ops ir.HeaderOps, authority string) {
	if h == nil {
		return ir.HeaderOps{}, ""
	}
	ops.Request, authority = b.headerOp(obj, path+".request", h.Request, true)
	ops.Response, _ = b.headerOp(obj, path+".response", h.Response, false)
	return ops, authority
}

// headerOp converts one direction's set/add/remove. Header names are
// lower-cased (HTTP header names are case-insensitive; Envoy stores them
// lower-case).
//
// Anti-spoofing: a request header set or added from a %DOWNSTREAM_PEER_…%
// formatter is also removed at the same level. Envoy skips adding a header
// whose formatter yields nothing (no client certificate), which would let
// the client's own copy through; removes run before adds within one level.
func (b *builder) headerOp(obj *model.Object, path string, o *model.HeaderOperations, request bool) (op ir.HeaderOp, authority string) {
	if o == nil {
		return ir.HeaderOp{}, ""
	}
	for _, part := range []struct {
		field  string
		values map[string]string
		out    *[]ir.Header
	}{{"set", o.Set, &op.Set}, {"add", o.Add, &op.Add}} {
		for _, name := range slices.Sorted(maps.Keys(part.values)) {
			value, lname := part.values[name], strings.ToLower(name)
			fpath := path + "." + part.field + "." + name
			if request && (lname == ":authority" || lname == "host") {
				authority = value
				continue
			}
			if strings.HasPrefix(lname, ":") {
				b.errorf(obj, fpath, "pseudo-header %s cannot be changed (only :authority, which rewrites the host)", name)
				continue
			}
			*part.out = append(*part.out, ir.Header{Name: lname, Value: value})
			if request && strings.Contains(value, peerFormatterPrefix) {
				op.Remove = append(op.Remove, lname)
			}
		}
	}
	for i, name := range o.Remove {
		lname := strings.ToLower(name)
		if strings.HasPrefix(lname, ":") || (request && lname == "host") {
			b.errorf(obj, fmt.Sprintf("%s.remove[%d]", path, i), "header %s cannot be removed", name)
			continue
		}
		op.Remove = append(op.Remove, lname)
	}
	op.Remove = sortedUnique(op.Remove)
	return op, authority
}

// mergeHeaderOp appends extra's operations to op, keeping the sort orders.
func mergeHeaderOp(op, extra ir.HeaderOp) ir.HeaderOp {
	out := ir.HeaderOp{
		Set:    append(slices.Clone(op.Set), extra.Set...),
		Add:    append(slices.Clone(op.Add), extra.Add...),
		Remove: sortedUnique(append(slices.Clone(op.Remove), extra.Remove...)),
	}
	byName := func(a, b ir.Header) int { return strings.Compare(a.Name, b.Name) }
	slices.SortStableFunc(out.Set, byName)
	slices.SortStableFunc(out.Add, byName)
	return out
}

// requestHeaders are the headers vh sets or adds on requests, at the virtual
// host, a route or a weighted destination, in that order.
func requestHeaders(vh *ir.VirtualHost) []ir.Header {
	var out []ir.Header
	collect := func(op ir.HeaderOp) { out = append(append(out, op.Set...), op.Add...) }
	collect(vh.Headers.Request)
	for _, r := range vh.Routes {
		collect(r.Headers.Request)
		if r.Forward != nil {
			for _, d := range r.Forward.Destinations {
				collect(d.Headers.Request)
			}
		}
	}
	return out
}
