package model

import (
	"slices"
	"strings"
)

// Envoy's protocol versions for a listener when a bound is unset or
// TLS_AUTO: ServerContextConfigImpl::DEFAULT_MIN_VERSION (TLS 1.2) and
// DEFAULT_MAX_VERSION (TLS 1.3) in source/common/tls/
// server_context_config_impl.cc. (For upstream connections
// ClientContextConfigImpl's defaults are TLS 1.2 and 1.2, in
// context_config_impl.cc; a DestinationRule, like Istio's, sets no
// versions.) ContextImpl passes both to SSL_CTX_set_min/max_proto_version
// without comparing them, so a minimum above the maximum is accepted and
// every handshake fails.
const (
	serverDefaultMinVersion = "TLSV1_2"
	serverDefaultMaxVersion = "TLSV1_3"
)

// preTLS12Suites are the cipher suites of cipherSuites that a handshake
// below TLS 1.2 can agree with a certificate: the CBC suites with a SHA-1
// MAC (BoringSSL's SSL_CIPHER_get_min_version is TLS 1.2 for every AEAD or
// SHA-256/384 suite; PSK suites need a PSK, which Envoy never configures).
// Envoy's default suites are all AEAD.
var preTLS12Suites = []string{
	"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
	"AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
}

// tlsVersionRange checks that a listener's effective protocol versions,
// Envoy's defaults filled in, leave a handshake possible: the minimum is
// not above the maximum, and below TLS 1.2 some cipher suite is usable.
// Unknown version names are reported elsewhere.
func (v *validator) tlsVersionRange(o *Object, tp, minV, maxV string, ciphers []string) {
	lo, okLo := effectiveVersion(minV, serverDefaultMinVersion)
	hi, okHi := effectiveVersion(maxV, serverDefaultMaxVersion)
	if !okLo || !okHi {
		return
	}
	switch {
	case lo <= hi:
	case isSetVersion(minV):
		v.errorf(o, tp+".minProtocolVersion", "minProtocolVersion %s is above maxProtocolVersion %s", minV, maxV)
		return
	default:
		// The default maximum is the highest version, so only a set
		// maximum can fall below the default minimum.
		v.errorf(o, tp+".maxProtocolVersion", "maxProtocolVersion %s is below Envoy's default minimum %s (minProtocolVersion is not set), so every handshake would fail; set minProtocolVersion too", maxV, serverDefaultMinVersion)
		return
	}
	if hi >= tlsVersionOrdinal["TLSV1_2"] || hasPreTLS12Suite(ciphers) {
		return
	}
	list := strings.Join(preTLS12Suites, ", ")
	if len(ciphers) == 0 {
		v.errorf(o, tp+".maxProtocolVersion", "with maxProtocolVersion %s no cipher suite can be agreed: Envoy's default suites all need TLS 1.2, so every handshake would fail; list a CBC suite usable below TLS 1.2 (%s) in cipherSuites", maxV, list)
		return
	}
	v.errorf(o, tp+".cipherSuites", "with maxProtocolVersion %s no cipher suite can be agreed: every listed suite needs TLS 1.2, so every handshake would fail; list a CBC suite usable below TLS 1.2 (%s)", maxV, list)
}

// effectiveVersion is the ordinal of version v, or of def when v is unset
// or TLS_AUTO; false for an unknown name.
func effectiveVersion(v, def string) (int, bool) {
	if !isSetVersion(v) {
		v = def
	}
	n, ok := tlsVersionOrdinal[strings.ToUpper(v)]
	return n, ok
}

// isSetVersion reports whether v names a version rather than Envoy's
// default.
func isSetVersion(v string) bool {
	return v != "" && !strings.EqualFold(v, "TLS_AUTO")
}

// hasPreTLS12Suite reports whether some entry of ciphers, or some member of
// an equal-preference group "[A|B]", works below TLS 1.2.
func hasPreTLS12Suite(ciphers []string) bool {
	for _, c := range ciphers {
		for _, n := range strings.Split(strings.Trim(c, "[]"), "|") {
			if slices.Contains(preTLS12Suites, n) {
				return true
			}
		}
	}
	return false
}
