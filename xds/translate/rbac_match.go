package translate

import (
	"fmt"
	"regexp"

	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/trustgate/trustgate/xds/ir"
)

// operationPermission is the AND of an operation's non-empty fields, each
// the OR of its values. On a TCP chain (http false) the HTTP fields are left
// out; the caller has already dropped ALLOW rules that use them.
func operationPermission(op ir.Operation, http bool) (*rbacv3.Permission, error) {
	type perms = []*rbacv3.Permission
	fields := []struct {
		name     string
		not      bool
		httpOnly bool
		build    func() (perms, error)
	}{
		{"hosts", false, true, func() (perms, error) { return mapList(op.Hosts, hostPermission) }},
		{"notHosts", true, true, func() (perms, error) { return mapList(op.NotHosts, hostPermission) }},
		{"paths", false, true, func() (perms, error) { return mapList(op.Paths, pathPermission) }},
		{"notPaths", true, true, func() (perms, error) { return mapList(op.NotPaths, pathPermission) }},
		{"methods", false, true, func() (perms, error) { return methodPermissions(op.Methods), nil }},
		{"notMethods", true, true, func() (perms, error) { return methodPermissions(op.NotMethods), nil }},
		{"ports", false, false, func() (perms, error) { return portPermissions(op.Ports), nil }},
		{"notPorts", true, false, func() (perms, error) { return portPermissions(op.NotPorts), nil }},
	}
	var and perms
	for _, f := range fields {
		if f.httpOnly && !http {
			continue
		}
		ps, err := f.build()
		if err != nil {
			return nil, fmt.Errorf("%s%w", f.name, err)
		}
		and = permField(and, ps, f.not)
	}
	if len(and) == 0 {
		return permAny(), nil
	}
	return permAnd(and), nil
}

// ruleNeedsHTTP reports whether a rule tests an HTTP-only attribute (host,
// path, method, request header).
func ruleNeedsHTTP(r ir.AuthzRule) bool {
	for _, op := range r.To {
		if len(op.Hosts)+len(op.NotHosts)+len(op.Paths)+len(op.NotPaths)+len(op.Methods)+len(op.NotMethods) > 0 {
			return true
		}
	}
	for _, c := range r.When {
		if conditionNeedsHTTP(c.Key) {
			return true
		}
	}
	return false
}

// hostPermission matches the Host (:authority) header. Hosts are compared
// case-insensitively and, as the Host header may carry a port, "host:port"
// matches too: one RE2 pattern per host, `(?i)<host>(:[0-9]+)?`. (Istio
// instead emits prefix/suffix matchers, which miss "host:port" for exact
// hosts.) Envoy's safe_regex is a full match, so no anchors are needed.
func hostPermission(m ir.StringMatch) (*rbacv3.Permission, error) {
	hm := &routev3.HeaderMatcher{Name: ":authority"}
	if m.Present {
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
	} else {
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: regexStringMatcher(hostRegex(m))}
	}
	return headerPermission(hm), nil
}

// hostRegex is the RE2 pattern for one host match (see hostPermission).
func hostRegex(m ir.StringMatch) string {
	const port = `(:[0-9]+)?`
	switch {
	case m.Prefix != "":
		return `(?i)` + regexp.QuoteMeta(m.Prefix) + `.*`
	case m.Suffix != "":
		return `(?i).*` + regexp.QuoteMeta(m.Suffix) + port
	case m.Contains != "":
		return `(?i).*` + regexp.QuoteMeta(m.Contains) + `.*`
	case m.Regex != "":
		return `(?i)(?:` + m.Regex + `)` + port
	default:
		return `(?i)` + regexp.QuoteMeta(m.Exact) + port
	}
}

// pathPermission matches the URL path without its query (the :path header
// would include it, so "/admin?x" could slip past an exact "/admin").
func pathPermission(m ir.StringMatch) (*rbacv3.Permission, error) {
	sm, err := valueMatcher(m)
	if err != nil {
		return nil, err
	}
	return &rbacv3.Permission{Rule: &rbacv3.Permission_UrlPath{
		UrlPath: &matcherv3.PathMatcher{Rule: &matcherv3.PathMatcher_Path{Path: sm}},
	}}, nil
}

// methodPermissions match the :method pseudo-header exactly.
func methodPermissions(methods []string) []*rbacv3.Permission {
	var out []*rbacv3.Permission
	for _, m := range methods {
		out = append(out, headerPermission(&routev3.HeaderMatcher{
			Name:                 ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: exactMatcher(m)},
		}))
	}
	return out
}

// headerPermission matches a request header.
func headerPermission(hm *routev3.HeaderMatcher) *rbacv3.Permission {
	return &rbacv3.Permission{Rule: &rbacv3.Permission_Header{Header: hm}}
}

// portPermissions match the destination port.
func portPermissions(ports []uint32) []*rbacv3.Permission {
	var out []*rbacv3.Permission
	for _, p := range ports {
		out = append(out, &rbacv3.Permission{Rule: &rbacv3.Permission_DestinationPort{DestinationPort: p}})
	}
	return out
}

// sourcePrincipal is the AND of a source's non-empty fields, each the OR of
// its values.
func sourcePrincipal(s ir.Source) (*rbacv3.Principal, error) {
	fields := []struct {
		name  string
		not   bool
		build func() ([]*rbacv3.Principal, error)
	}{
		{"principals", false, func() ([]*rbacv3.Principal, error) { return mapList(s.Principals, principalName) }},
		{"notPrincipals", true, func() ([]*rbacv3.Principal, error) { return mapList(s.NotPrincipals, principalName) }},
		{"ipBlocks", false, func() ([]*rbacv3.Principal, error) { return mapList(s.IPBlocks, directRemoteIP) }},
		{"notIpBlocks", true, func() ([]*rbacv3.Principal, error) { return mapList(s.NotIPBlocks, directRemoteIP) }},
		{"remoteIpBlocks", false, func() ([]*rbacv3.Principal, error) { return mapList(s.RemoteIPBlocks, remoteIP) }},
		{"notRemoteIpBlocks", true, func() ([]*rbacv3.Principal, error) { return mapList(s.NotRemoteIPBlocks, remoteIP) }},
	}
	var and []*rbacv3.Principal
	for _, f := range fields {
		ps, err := f.build()
		if err != nil {
			return nil, fmt.Errorf("%s%w", f.name, err)
		}
		and = prinField(and, ps, f.not)
	}
	if len(and) == 0 {
		return prinAny(), nil
	}
	return prinAnd(and), nil
}

// principalName matches a client identity against the URI SANs of the
// verified peer certificate, as given: we are not a mesh, so unlike Istio no
// "spiffe://" is prepended. The mtls_authenticated principal is used rather
// than `authenticated`, which matches any TLS connection (even one without a
// certificate) and also compares DNS SANs and the subject.
func principalName(m ir.StringMatch) (*rbacv3.Principal, error) {
	return sanPrincipal(ir.SANURI, m)
}

// directRemoteIP matches the physical peer's address.
func directRemoteIP(cidr string) (*rbacv3.Principal, error) {
	r, err := cidrRange(cidr)
	if err != nil {
		return nil, err
	}
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_DirectRemoteIp{DirectRemoteIp: r}}, nil
}

// remoteIP matches the client address after X-Forwarded-For / PROXY
// protocol processing.
func remoteIP(cidr string) (*rbacv3.Principal, error) {
	r, err := cidrRange(cidr)
	if err != nil {
		return nil, err
	}
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_RemoteIp{RemoteIp: r}}, nil
}

// valueMatcher is stringMatcher where a presence match means "some
// non-empty value".
func valueMatcher(m ir.StringMatch) (*matcherv3.StringMatcher, error) {
	if m.Present {
		return regexStringMatcher(".+"), nil
	}
	return stringMatcher(m)
}
