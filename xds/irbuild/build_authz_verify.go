package irbuild

import (
	"regexp"
	"slices"
	"strings"

	"github.com/trustgate/trustgate/internal/re2size"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// isVerifyValues reports whether ssl-client-verify takes only the values
// trustgate gives it (SUCCESS, NONE).
func isVerifyValues(values []string) bool {
	return !slices.ContainsFunc(values, func(v string) bool { return v != verifySuccess && v != verifyNone })
}

// verifyCondition rewrites a condition on ssl-client-verify to whether a
// certificate was presented. The header is SUCCESS when one was (Envoy
// verified it in the handshake: a chain with a client CA refuses an invalid
// certificate even with OPTIONAL_MUTUAL) and NONE otherwise; FAILED never
// reaches a backend. The condition is evaluated for both states: holding in
// both, it is dropped (always true); in neither, it becomes one that never
// holds.
func verifyCondition(c ir.Condition) []ir.Condition {
	holds := func(v string) bool {
		some := len(c.Values) == 0 || slices.ContainsFunc(c.Values, func(m ir.StringMatch) bool { return matchString(m, v) })
		return some && !slices.ContainsFunc(c.NotValues, func(m ir.StringMatch) bool { return matchString(m, v) })
	}
	presented := []ir.StringMatch{{Present: true}}
	switch withCert, without := holds(verifySuccess), holds(verifyNone); {
	case withCert && without:
		return nil
	case withCert:
		return []ir.Condition{{Key: ir.CondCertPresented, Values: presented}}
	case without:
		return []ir.Condition{{Key: ir.CondCertPresented, NotValues: presented}}
	}
	return []ir.Condition{{Key: ir.CondCertPresented, Values: presented, NotValues: presented}}
}

// matchString evaluates a string match on s as Envoy's StringMatcher does
// (a regex is a full match); a presence match holds for any non-empty s.
func matchString(m ir.StringMatch, s string) bool {
	if m.Present {
		return s != ""
	}
	if m.Regex != "" {
		re, err := regexp.Compile(`^(?:` + re2size.CaseFold(m.Regex, m.IgnoreCase) + `)$`)
		return err == nil && re.MatchString(s)
	}
	v := s
	exact, prefix, suffix, contains := m.Exact, m.Prefix, m.Suffix, m.Contains
	if m.IgnoreCase {
		v, exact, prefix, suffix, contains = strings.ToLower(v), strings.ToLower(exact), strings.ToLower(prefix), strings.ToLower(suffix), strings.ToLower(contains)
	}
	switch {
	case prefix != "":
		return strings.HasPrefix(v, prefix)
	case suffix != "":
		return strings.HasSuffix(v, suffix)
	case contains != "":
		return strings.Contains(v, contains)
	}
	return v == exact
}

// xfccCondition handles a condition on x-forwarded-client-cert. Envoy's
// connection manager rewrites that header before any HTTP filter runs
// (ConnectionManagerUtility::mutateRequestHeaders calls
// mutateXfccRequestHeader, source/common/http/conn_manager_utility.cc, from
// ActiveStream::decodeHeaders ahead of the filter chain), so RBAC sees it as
// the chain's mode leaves it: SANITIZE_SET, the gateway's own value (or none
// without a certificate), which a header matcher judges faithfully; SANITIZE
// (the default), no header at all; the forwarding modes, what the client
// sent. A route setting it too would change it after RBAC.
func (b *builder) xfccCondition(obj *model.Object, path string, c ir.Condition, ci *chainInfo, onChain map[string][]string) []ir.Condition {
	mode := ir.XFCCSanitize
	if x := ci.chain.HTTP.XFCC; x != nil {
		mode = x.Mode
	}
	switch _, routeSets := onChain[xfccHeader]; {
	case routeSets:
		b.errorf(obj, path, "request.headers[%s]: a route of chain %s sets it after authorization runs, so the rule would judge another value than the backend gets", xfccHeader, ci.chain.Name)
	case mode == ir.XFCCSanitizeSet:
		return []ir.Condition{c}
	case mode == ir.XFCCSanitize:
		b.errorf(obj, path, "request.headers[%s]: chain %s removes it before authorization (forwardClientCert mode SANITIZE, Envoy's default), so the condition tests nothing; set forwardClientCert mode SANITIZE_SET, or test the certificate with source.principal or a ClientCertificatePolicy authorization rule", xfccHeader, ci.chain.Name)
	default:
		b.errorf(obj, path, "request.headers[%s]: with forwardClientCert mode %s chain %s passes on what the client sent, so the rule would judge the client's own claim; test the certificate with source.principal or a ClientCertificatePolicy authorization rule", xfccHeader, mode, ci.chain.Name)
	}
	return nil
}
