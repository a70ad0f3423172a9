package translate

import (
	"errors"
	"fmt"
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	mtlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/rbac/principals/mtls_authenticated/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/trustgate/trustgate/xds/ir"
)

// errNoValues is returned for a condition with neither values nor notValues.
var errNoValues = errors.New("condition without values")

// isPermissionCondition reports whether a When key tests the connection's
// destination, which RBAC models as a permission.
func isPermissionCondition(k ir.ConditionKey) bool {
	return k == ir.CondDestinationPort || k == ir.CondSNI
}

// conditionNeedsHTTP reports whether a When key only exists on HTTP chains.
func conditionNeedsHTTP(k ir.ConditionKey) bool {
	return k == ir.CondRequestHeader
}

// isCertCondition reports whether a When key tests the peer certificate.
func isCertCondition(k ir.ConditionKey) bool {
	switch k {
	case ir.CondSourcePrincipal, ir.CondCertSubject, ir.CondCertCN, ir.CondCertIssuer,
		ir.CondCertFingerprint, ir.CondCertDNSSAN, ir.CondCertURISAN, ir.CondCertEmailSAN, ir.CondCertIPSAN:
		return true
	}
	return false
}

// conditionPermission is a destination.port or connection.sni condition:
// some of Values and none of NotValues.
func conditionPermission(c ir.Condition) (*rbacv3.Permission, error) {
	conv := sniPermission
	if c.Key == ir.CondDestinationPort {
		conv = portValuePermission
	}
	values, notValues, err := conditionValues(c, conv)
	if err != nil {
		return nil, err
	}
	and := permField(permField(nil, values, false), notValues, true)
	if len(and) == 0 {
		return nil, errNoValues
	}
	return permAnd(and), nil
}

// sniPermission matches the requested server name.
func sniPermission(m ir.StringMatch) (*rbacv3.Permission, error) {
	sm, err := valueMatcher(m)
	if err != nil {
		return nil, err
	}
	return &rbacv3.Permission{Rule: &rbacv3.Permission_RequestedServerName{RequestedServerName: sm}}, nil
}

// portValuePermission matches a destination port given as an exact value.
func portValuePermission(m ir.StringMatch) (*rbacv3.Permission, error) {
	p, err := strconv.ParseUint(m.Exact, 10, 16)
	if err != nil || !isExactOnly(m) {
		return nil, fmt.Errorf("port %q: want an exact port number", m.Exact)
	}
	return portPermissions([]uint32{uint32(p)})[0], nil
}

// conditionPrincipal is any other condition: some of Values and none of
// NotValues. A certificate condition in an ALLOW rule also requires a
// validated certificate: "none of NotValues" is otherwise true of a client
// that sent no certificate, and an ALLOW rule must not fail open. In a DENY
// rule that same reading denies the certificate-less client (fail closed).
func conditionPrincipal(c ir.Condition, allow bool) (*rbacv3.Principal, error) {
	conv, err := principalConverter(c)
	if err != nil {
		return nil, err
	}
	values, notValues, err := conditionValues(c, conv)
	if err != nil {
		return nil, err
	}
	and := prinField(prinField(nil, values, false), notValues, true)
	if len(and) == 0 {
		return nil, errNoValues
	}
	if allow && len(notValues) > 0 && isCertCondition(c.Key) {
		v, err := validatedCertPrincipal()
		if err != nil {
			return nil, err
		}
		and = append([]*rbacv3.Principal{v}, and...)
	}
	return prinAnd(and), nil
}

// principalConverter picks how a condition's values become principals.
func principalConverter(c ir.Condition) (func(ir.StringMatch) (*rbacv3.Principal, error), error) {
	switch c.Key {
	case ir.CondRequestHeader:
		if c.Header == "" {
			return nil, errors.New("request.headers condition without a header name")
		}
		return func(m ir.StringMatch) (*rbacv3.Principal, error) { return headerPrincipal(c.Header, m) }, nil
	case ir.CondSourcePrincipal:
		return principalName, nil
	case ir.CondSourceIP:
		return exactValue(directRemoteIP), nil
	case ir.CondRemoteIP:
		return exactValue(remoteIP), nil
	case ir.CondCertSubject:
		return peerStatePrincipal(ir.PeerSubject), nil
	case ir.CondCertIssuer:
		return peerStatePrincipal(ir.PeerIssuer), nil
	case ir.CondCertFingerprint:
		return peerStatePrincipal(ir.PeerFingerprint), nil
	case ir.CondCertPresented:
		return certPresentedPrincipal, nil
	case ir.CondCertCN:
		return cnPrincipal, nil
	case ir.CondCertDNSSAN, ir.CondCertURISAN, ir.CondCertEmailSAN, ir.CondCertIPSAN:
		t := map[ir.ConditionKey]ir.SANType{
			ir.CondCertDNSSAN: ir.SANDNS, ir.CondCertURISAN: ir.SANURI,
			ir.CondCertEmailSAN: ir.SANEmail, ir.CondCertIPSAN: ir.SANIP,
		}[c.Key]
		return func(m ir.StringMatch) (*rbacv3.Principal, error) { return sanPrincipal(t, m) }, nil
	}
	return nil, fmt.Errorf("unknown condition key %q", c.Key)
}

// exactValue adapts a converter of plain strings (IPs, CIDRs).
func exactValue(f func(string) (*rbacv3.Principal, error)) func(ir.StringMatch) (*rbacv3.Principal, error) {
	return func(m ir.StringMatch) (*rbacv3.Principal, error) {
		if !isExactOnly(m) {
			return nil, errors.New("want an exact IP or CIDR")
		}
		return f(m.Exact)
	}
}

// isExactOnly reports whether m is a plain exact match.
func isExactOnly(m ir.StringMatch) bool {
	return m == ir.StringMatch{Exact: m.Exact}
}

// headerPrincipal matches a request header. Only safe for headers the
// gateway sanitises: the client writes them.
func headerPrincipal(name string, m ir.StringMatch) (*rbacv3.Principal, error) {
	hm, err := headerMatcher(name, m, false)
	if err != nil {
		return nil, err
	}
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Header{Header: hm}}, nil
}

// sanPrincipal matches a SAN of the given type on the presented and
// validated peer certificate (mtls_authenticated); a presence match means
// "has some SAN of this type".
func sanPrincipal(t ir.SANType, m ir.StringMatch) (*rbacv3.Principal, error) {
	sm, err := valueMatcher(m)
	if err != nil {
		return nil, err
	}
	st, ok := tlsv3.SubjectAltNameMatcher_SanType_value[string(t)]
	if !ok {
		return nil, fmt.Errorf("unknown SAN type %q", t)
	}
	return mtlsPrincipal(&mtlsv3.Config{SanMatcher: &tlsv3.SubjectAltNameMatcher{
		SanType: tlsv3.SubjectAltNameMatcher_SanType(st),
		Matcher: sm,
	}})
}

// certPresentedPrincipal matches a connection whose client presented a
// certificate: its fingerprint is in filter state, which set_filter_state
// fills only when %DOWNSTREAM_PEER_FINGERPRINT_256% yields one
// (peerStateValues). The formatter reads the peer certificate, which a
// resumed TLS session keeps, unlike mtls_authenticated's validated bit.
// On a chain with a client CA a presented certificate was verified in the
// handshake. Its only value is a presence match.
func certPresentedPrincipal(m ir.StringMatch) (*rbacv3.Principal, error) {
	if m != (ir.StringMatch{Present: true}) {
		return nil, fmt.Errorf("cert.presented takes only a presence match, got %+v", m)
	}
	return filterStatePrincipal(ir.PeerFingerprint, regexStringMatcher(".+")), nil
}

// validatedCertPrincipal matches any connection with a presented and
// validated client certificate.
func validatedCertPrincipal() (*rbacv3.Principal, error) {
	return mtlsPrincipal(&mtlsv3.Config{AnyValidatedClientCertificate: true})
}

// mtlsPrincipal wraps an mtls_authenticated config in a custom principal.
func mtlsPrincipal(cfg *mtlsv3.Config) (*rbacv3.Principal, error) {
	a, err := toAny(cfg)
	if err != nil {
		return nil, err
	}
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_Custom{Custom: &corev3.TypedExtensionConfig{
		Name:        mtlsAuthenticated,
		TypedConfig: a,
	}}}, nil
}

// peerStatePrincipal matches a certificate field that set_filter_state
// copied into filter state (see rbac_cert.go).
func peerStatePrincipal(f ir.PeerField) func(ir.StringMatch) (*rbacv3.Principal, error) {
	return func(m ir.StringMatch) (*rbacv3.Principal, error) {
		sm, err := valueMatcher(m)
		if err != nil {
			return nil, err
		}
		return filterStatePrincipal(f, sm), nil
	}
}

// filterStatePrincipal matches the filter-state object of a peer field.
func filterStatePrincipal(f ir.PeerField, sm *matcherv3.StringMatcher) *rbacv3.Principal {
	return &rbacv3.Principal{Identifier: &rbacv3.Principal_FilterState{FilterState: &matcherv3.FilterStateMatcher{
		Key:     ir.PeerStateKey(f),
		Matcher: &matcherv3.FilterStateMatcher_StringMatch{StringMatch: sm},
	}}}
}

// conditionValues converts a condition's Values and NotValues.
func conditionValues[T any](c ir.Condition, conv func(ir.StringMatch) (T, error)) (values, notValues []T, err error) {
	if values, err = mapList(c.Values, conv); err != nil {
		return nil, nil, fmt.Errorf("values%w", err)
	}
	if notValues, err = mapList(c.NotValues, conv); err != nil {
		return nil, nil, fmt.Errorf("notValues%w", err)
	}
	return values, notValues, nil
}
