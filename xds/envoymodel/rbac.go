package envoymodel

import (
	"net/netip"
	"sort"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	mtlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/rbac/principals/mtls_authenticated/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// mtlsAuthenticatedName is the custom principal extension's name.
const mtlsAuthenticatedName = "envoy.rbac.principals.mtls_authenticated"

// rbacContext is what RBAC matchers read.
type rbacContext struct {
	conn        *Connection
	peer        Peer
	cert        *peerCert // nil: none presented
	sni         string    // what tls_inspector recorded
	local       netip.Addr
	headers     *headerMap // nil on a network filter
	filterState map[string]string
}

// compilePermission checks a permission tree.
func (m *Model) compilePermission(p *rbacv3.Permission) error {
	switch r := p.GetRule().(type) {
	case *rbacv3.Permission_AndRules:
		return m.compilePermissions(r.AndRules.GetRules())
	case *rbacv3.Permission_OrRules:
		return m.compilePermissions(r.OrRules.GetRules())
	case *rbacv3.Permission_NotRule:
		return m.compilePermission(r.NotRule)
	case *rbacv3.Permission_Any, *rbacv3.Permission_DestinationPort, *rbacv3.Permission_DestinationPortRange:
		return nil
	case *rbacv3.Permission_DestinationIp:
		_, err := cidrPrefix(r.DestinationIp)
		return err
	case *rbacv3.Permission_Header:
		return m.compileHeaderMatcher(r.Header)
	case *rbacv3.Permission_UrlPath:
		return m.compileStringMatcher(r.UrlPath.GetPath())
	case *rbacv3.Permission_RequestedServerName:
		return m.compileStringMatcher(r.RequestedServerName)
	}
	return unsupported("RBAC permission %T", p.GetRule())
}

// compilePermissions checks a list of permissions.
func (m *Model) compilePermissions(ps []*rbacv3.Permission) error {
	for _, p := range ps {
		if err := m.compilePermission(p); err != nil {
			return err
		}
	}
	return nil
}

// compilePrincipal checks a principal tree.
func (m *Model) compilePrincipal(p *rbacv3.Principal) error {
	switch id := p.GetIdentifier().(type) {
	case *rbacv3.Principal_AndIds:
		return m.compilePrincipals(id.AndIds.GetIds())
	case *rbacv3.Principal_OrIds:
		return m.compilePrincipals(id.OrIds.GetIds())
	case *rbacv3.Principal_NotId:
		return m.compilePrincipal(id.NotId)
	case *rbacv3.Principal_Any:
		return nil
	case *rbacv3.Principal_Authenticated_:
		if pn := id.Authenticated.GetPrincipalName(); pn != nil {
			return m.compileStringMatcher(pn)
		}
		return nil
	case *rbacv3.Principal_SourceIp:
		// Envoy still matches the deprecated source_ip, as the connection's
		// remote address (Matcher::create, IPMatcher::Type::ConnectionRemote,
		// source/extensions/filters/common/rbac/matchers.cc).
		_, err := cidrPrefix(id.SourceIp) //nolint:staticcheck // SA1019: Envoy honours it, so the model reads it
		return err
	case *rbacv3.Principal_DirectRemoteIp:
		_, err := cidrPrefix(id.DirectRemoteIp)
		return err
	case *rbacv3.Principal_RemoteIp:
		_, err := cidrPrefix(id.RemoteIp)
		return err
	case *rbacv3.Principal_Header:
		return m.compileHeaderMatcher(id.Header)
	case *rbacv3.Principal_UrlPath:
		return m.compileStringMatcher(id.UrlPath.GetPath())
	case *rbacv3.Principal_FilterState:
		sm := id.FilterState.GetStringMatch()
		if sm == nil {
			return unsupported("filter_state matchers other than string_match")
		}
		return m.compileStringMatcher(sm)
	case *rbacv3.Principal_Custom:
		cfg, err := mtlsConfig(id.Custom)
		if err != nil {
			return err
		}
		if cfg.GetSanMatcher() == nil && !cfg.GetAnyValidatedClientCertificate() {
			// MtlsAuthenticatedMatcher's constructor throws.
			return unsupported("mtls_authenticated without san_matcher or any_validated_client_certificate: Envoy rejects it")
		}
		if s := cfg.GetSanMatcher(); s != nil {
			return m.compileSANMatcher(s)
		}
		return nil
	}
	return unsupported("RBAC principal %T", p.GetIdentifier())
}

// compilePrincipals checks a list of principals.
func (m *Model) compilePrincipals(ps []*rbacv3.Principal) error {
	for _, p := range ps {
		if err := m.compilePrincipal(p); err != nil {
			return err
		}
	}
	return nil
}

// mtlsConfig unpacks the mtls_authenticated principal.
func mtlsConfig(c *corev3.TypedExtensionConfig) (*mtlsv3.Config, error) {
	if c.GetName() != mtlsAuthenticatedName {
		return nil, unsupported("custom principal %q", c.GetName())
	}
	cfg := &mtlsv3.Config{}
	return cfg, unpack(c.GetTypedConfig(), cfg)
}

// evalRules is RoleBasedAccessControlEngineImpl::handleAction
// (source/extensions/filters/common/rbac/engine_impl.cc): policies in name
// order (a std::map), the first that matches is the effective policy;
// ALLOW allows when one matched, DENY when none did, LOG always.
func (m *Model) evalRules(rules *rbacv3.RBAC, c *rbacContext) (allowed bool, policy string) {
	names := make([]string, 0, len(rules.GetPolicies()))
	for n := range rules.GetPolicies() {
		names = append(names, n)
	}
	sort.Strings(names)
	matched := false
	for _, n := range names {
		if m.policyMatches(rules.GetPolicies()[n], c) {
			matched, policy = true, n
			break
		}
	}
	switch rules.GetAction() {
	case rbacv3.RBAC_ALLOW:
		return matched, policy
	case rbacv3.RBAC_DENY:
		return !matched, policy
	}
	return true, policy
}

// policyMatches is PolicyMatcher::matches: some permission and some
// principal.
func (m *Model) policyMatches(p *rbacv3.Policy, c *rbacContext) bool {
	anyOf := func(n int, f func(int) bool) bool {
		for i := 0; i < n; i++ {
			if f(i) {
				return true
			}
		}
		return false
	}
	return anyOf(len(p.GetPermissions()), func(i int) bool { return m.permission(p.GetPermissions()[i], c) }) &&
		anyOf(len(p.GetPrincipals()), func(i int) bool { return m.principal(p.GetPrincipals()[i], c) })
}

// permission evaluates a permission (source/extensions/filters/common/rbac/
// matchers.cc).
func (m *Model) permission(p *rbacv3.Permission, c *rbacContext) bool {
	switch r := p.GetRule().(type) {
	case *rbacv3.Permission_AndRules:
		for _, q := range r.AndRules.GetRules() {
			if !m.permission(q, c) {
				return false
			}
		}
		return true
	case *rbacv3.Permission_OrRules:
		for _, q := range r.OrRules.GetRules() {
			if m.permission(q, c) {
				return true
			}
		}
		return false
	case *rbacv3.Permission_NotRule:
		return !m.permission(r.NotRule, c)
	case *rbacv3.Permission_Any:
		return r.Any
	case *rbacv3.Permission_DestinationPort:
		return c.conn.Port == r.DestinationPort
	case *rbacv3.Permission_DestinationPortRange:
		port := int32(c.conn.Port)
		return r.DestinationPortRange.GetStart() <= port && port < r.DestinationPortRange.GetEnd()
	case *rbacv3.Permission_DestinationIp:
		pfx, _ := cidrPrefix(r.DestinationIp)
		return c.local.IsValid() && pfx.Contains(c.local)
	case *rbacv3.Permission_Header:
		return m.matchHeader(r.Header, c.headersOrEmpty())
	case *rbacv3.Permission_UrlPath:
		return m.urlPath(r.UrlPath, c)
	case *rbacv3.Permission_RequestedServerName:
		// RequestedServerNameMatcher: the connection's requestedServerName,
		// which only tls_inspector sets.
		return m.matchString(r.RequestedServerName, c.sni)
	}
	return false
}

// principal evaluates a principal.
func (m *Model) principal(p *rbacv3.Principal, c *rbacContext) bool {
	switch id := p.GetIdentifier().(type) {
	case *rbacv3.Principal_AndIds:
		for _, q := range id.AndIds.GetIds() {
			if !m.principal(q, c) {
				return false
			}
		}
		return true
	case *rbacv3.Principal_OrIds:
		for _, q := range id.OrIds.GetIds() {
			if m.principal(q, c) {
				return true
			}
		}
		return false
	case *rbacv3.Principal_NotId:
		return !m.principal(id.NotId, c)
	case *rbacv3.Principal_Any:
		return id.Any
	case *rbacv3.Principal_Authenticated_:
		return m.authenticated(id.Authenticated, c)
	case *rbacv3.Principal_SourceIp:
		return inRange(id.SourceIp, c.conn.SourceIP) //nolint:staticcheck // SA1019: Envoy matches it (see compilePrincipal)
	case *rbacv3.Principal_DirectRemoteIp:
		return inRange(id.DirectRemoteIp, c.conn.SourceIP)
	case *rbacv3.Principal_RemoteIp:
		return inRange(id.RemoteIp, c.conn.SourceIP)
	case *rbacv3.Principal_Header:
		return m.matchHeader(id.Header, c.headersOrEmpty())
	case *rbacv3.Principal_UrlPath:
		return m.urlPath(id.UrlPath, c)
	case *rbacv3.Principal_FilterState:
		v, ok := c.filterState[id.FilterState.GetKey()]
		return ok && m.matchString(id.FilterState.GetStringMatch(), v)
	case *rbacv3.Principal_Custom:
		cfg, _ := mtlsConfig(id.Custom)
		return m.mtlsAuthenticated(cfg, c)
	}
	return false
}

// mtlsAuthenticated is MtlsAuthenticatedMatcher::matches: a TLS connection
// whose peer certificate Envoy reports validated (false on resumed
// sessions), then the SAN matcher if any (peerCertificateSanMatches, the
// same StringSanMatcher as the validator, DNS wildcards included).
func (m *Model) mtlsAuthenticated(cfg *mtlsv3.Config, c *rbacContext) bool {
	if !c.peer.TLS || !c.peer.Validated || c.cert == nil {
		return false
	}
	s := cfg.GetSanMatcher()
	if s == nil {
		return true
	}
	for _, gn := range generalNames(c.cert.cert) {
		if m.matchSAN(s, gn) {
			return true
		}
	}
	return false
}

// authenticated is AuthenticatedMatcher::matches: any TLS connection when
// no principal_name is set, else the URI SANs, the DNS SANs, then the
// subject.
func (m *Model) authenticated(a *rbacv3.Principal_Authenticated, c *rbacContext) bool {
	if !c.peer.TLS {
		return false
	}
	pn := a.GetPrincipalName()
	if pn == nil {
		return true
	}
	if c.cert == nil {
		return m.matchString(pn, "")
	}
	for _, v := range append(append([]string(nil), c.cert.uris...), c.cert.dns...) {
		if m.matchString(pn, v) {
			return true
		}
	}
	return m.matchString(pn, c.cert.subject)
}

// urlPath is PathMatcher::matches: the :path without query and fragment;
// false without a :path.
func (m *Model) urlPath(pm *matcherv3.PathMatcher, c *rbacContext) bool {
	if c.headers == nil {
		return false
	}
	path, ok := c.headers.get(":path")
	return ok && m.matchString(pm.GetPath(), removeQueryAndFragment(path))
}

// headersOrEmpty is the request's headers, or none on a network filter.
func (c *rbacContext) headersOrEmpty() *headerMap {
	if c.headers == nil {
		return &headerMap{}
	}
	return c.headers
}

// inRange reports whether a is inside r.
func inRange(r *corev3.CidrRange, a netip.Addr) bool {
	p, err := cidrPrefix(r)
	return err == nil && a.IsValid() && p.Contains(a)
}
