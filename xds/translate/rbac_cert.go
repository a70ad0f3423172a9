package translate

import (
	"fmt"
	"regexp"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	sfsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/set_filter_state/v3"
	sfshttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/set_filter_state/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	sfsnetv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/set_filter_state/v3"

	"github.com/trustgate/trustgate/internal/re2size"
	"github.com/trustgate/trustgate/internal/rfc2253"
	"github.com/trustgate/trustgate/xds/ir"
)

// Certificate subject, issuer and fingerprint are not RBAC attributes. They
// must be read from the verified peer certificate, never from a request
// header: a client can forge headers, and route-level header mutations run
// after RBAC anyway. So a set_filter_state filter placed before RBAC copies
// each needed field from its formatter (%DOWNSTREAM_PEER_SUBJECT% etc.) into
// filter state, and RBAC's filter_state principal matches it there.

// peerFields lists, in a fixed order, the certificate fields a chain's RBAC
// rules read from filter state.
func peerFields(r *ir.RBAC, http bool) []ir.PeerField {
	used := map[ir.PeerField]bool{}
	rules := append(append([]ir.AuthzRule(nil), r.Deny...), keptRules(r.Allow, true, http)...)
	for _, rule := range rules {
		for _, c := range rule.When {
			switch c.Key {
			case ir.CondCertSubject, ir.CondCertCN:
				used[ir.PeerSubject] = true
			case ir.CondCertIssuer:
				used[ir.PeerIssuer] = true
			case ir.CondCertFingerprint, ir.CondCertPresented:
				used[ir.PeerFingerprint] = true
			}
		}
	}
	var out []ir.PeerField
	for _, f := range []ir.PeerField{ir.PeerSubject, ir.PeerIssuer, ir.PeerFingerprint} {
		if used[f] {
			out = append(out, f)
		}
	}
	return out
}

// peerStateValues are the set_filter_state entries for fields. An absent
// certificate yields an empty formatter result: omit_empty_values keeps it
// empty (not "-") and skip_if_empty then sets nothing, so a filter_state
// matcher cannot match a client without a certificate. (read_only is
// deprecated and has no effect, so it is not set.)
func peerStateValues(fields []ir.PeerField) []*sfsv3.FilterStateValue {
	var out []*sfsv3.FilterStateValue
	for _, f := range fields {
		// text_format is deprecated in favour of text_format_source.
		format := &corev3.SubstitutionFormatString{
			Format:          &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: inlineString(string(f))},
			OmitEmptyValues: true,
		}
		out = append(out, &sfsv3.FilterStateValue{
			Key:         &sfsv3.FilterStateValue_ObjectKey{ObjectKey: ir.PeerStateKey(f)},
			FactoryKey:  stringFactory,
			Value:       &sfsv3.FilterStateValue_FormatString{FormatString: format},
			SkipIfEmpty: true,
		})
	}
	return out
}

// peerStateHTTPFilter fills the peer fields on each request's headers.
func peerStateHTTPFilter(fields []ir.PeerField) (*hcmv3.HttpFilter, error) {
	return httpFilter(setFilterStateHTTP, &sfshttpv3.Config{OnRequestHeaders: peerStateValues(fields)})
}

// peerStateNetworkFilter fills the peer fields once the downstream TLS
// handshake completes: on_new_connection would run before the peer
// certificate exists. Network RBAC decides on the first decrypted byte,
// which comes after the handshake.
func peerStateNetworkFilter(fields []ir.PeerField) (*listenerv3.Filter, error) {
	return networkFilter(setFilterStateNetwork, &sfsnetv3.Config{OnDownstreamTlsHandshake: peerStateValues(fields)})
}

// cnPrincipal matches the CN of the peer certificate's subject, through the
// subject in filter state.
func cnPrincipal(m ir.StringMatch) (*rbacv3.Principal, error) {
	re, err := cnRegex(m)
	if err != nil {
		return nil, err
	}
	return filterStatePrincipal(ir.PeerSubject, regexStringMatcher(re)), nil
}

// rdnValue matches one RFC 2253 attribute text: anything but an unescaped
// separator (',' between RDNs, '+' inside a multi-valued RDN). The classes
// are ASCII-only because Envoy prints names with XN_FLAG_RFC2253, which
// escapes every non-ASCII byte as \XX. That keeps the RE2 program small (9
// instructions here against 22 with Unicode classes, measured with libre2),
// which matters: Envoy rejects programs over 100 by default
// (re2.max_program_size.error_level), and a CN may be 64 characters long.
const rdnValue = `(?:[\x00-\x2a\x2d-\x5b\x5d-\x7f]|\\[\x00-\x7f])*`

// cnRegex is an RE2 full-match pattern on an RFC 2253 subject (the form
// %DOWNSTREAM_PEER_SUBJECT% prints) that holds when some CN attribute's value
// matches m. The CN must start an attribute: the text before it is a run of
// whole attributes, each followed by an unescaped separator, so a value like
// O=x\,CN=admin (an escaped comma inside O) cannot pose as CN=admin. Literal
// parts are escaped the way OpenSSL/BoringSSL print RFC 2253 (unverified
// against Envoy). A Regex match is used verbatim on the escaped value text
// and, if it allows separators, can reach into later attributes.
func cnRegex(m ir.StringMatch) (string, error) {
	var v string
	switch {
	case m.Present:
		v = rdnValue
	case m.Prefix != "":
		v = regexp.QuoteMeta(rfc2253.Escape(m.Prefix, true, false)) + rdnValue
	case m.Suffix != "":
		v = rdnValue + regexp.QuoteMeta(rfc2253.Escape(m.Suffix, false, true))
	case m.Contains != "":
		v = rdnValue + regexp.QuoteMeta(rfc2253.Escape(m.Contains, false, false)) + rdnValue
	case m.Regex != "":
		v = "(?:" + m.Regex + ")"
	case m.Exact != "":
		v = regexp.QuoteMeta(rfc2253.Escape(m.Exact, true, true))
	default:
		return "", fmt.Errorf("empty CN match")
	}
	return `(?:` + rdnValue + `[,+])*CN=` + re2size.CaseFold(v, m.IgnoreCase) + `(?:[,+]` + rdnValue + `)*`, nil
}
