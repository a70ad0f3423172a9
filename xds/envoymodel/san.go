package envoymodel

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// generalName is one SAN of a certificate in the string form
// Utility::generalNameAsString gives it.
type generalName struct {
	typ   tlsv3.SubjectAltNameMatcher_SanType
	value string
}

// generalNames lists a certificate's DNS, URI, email and IP SANs.
func generalNames(c *x509.Certificate) []generalName {
	var out []generalName
	for _, d := range c.DNSNames {
		out = append(out, generalName{tlsv3.SubjectAltNameMatcher_DNS, d})
	}
	for _, u := range c.URIs {
		out = append(out, generalName{tlsv3.SubjectAltNameMatcher_URI, u.String()})
	}
	for _, e := range c.EmailAddresses {
		out = append(out, generalName{tlsv3.SubjectAltNameMatcher_EMAIL, e})
	}
	for _, ip := range c.IPAddresses {
		out = append(out, generalName{tlsv3.SubjectAltNameMatcher_IP_ADDRESS, ip.String()})
	}
	return out
}

// compileSANMatcher checks a typed SAN matcher.
func (m *Model) compileSANMatcher(s *tlsv3.SubjectAltNameMatcher) error {
	switch s.GetSanType() {
	case tlsv3.SubjectAltNameMatcher_DNS, tlsv3.SubjectAltNameMatcher_URI,
		tlsv3.SubjectAltNameMatcher_EMAIL, tlsv3.SubjectAltNameMatcher_IP_ADDRESS:
	default:
		return unsupported("SAN type %s", s.GetSanType())
	}
	return m.compileStringMatcher(s.GetMatcher())
}

// matchSAN is StringSanMatcher::match
// (source/common/tls/cert_validator/san_matcher.cc): the SAN must be of the
// matcher's type; an exact matcher on a DNS SAN follows DNS wildcard rules
// (Utility::dnsNameMatch, with the certificate's SAN as the pattern), so a
// certificate for *.example.com satisfies exact "admin.example.com"; every
// other matcher is a plain string match.
func (m *Model) matchSAN(s *tlsv3.SubjectAltNameMatcher, gn generalName) bool {
	if gn.typ != s.GetSanType() {
		return false
	}
	if e, ok := s.GetMatcher().GetMatchPattern().(*matcherv3.StringMatcher_Exact); ok && gn.typ == tlsv3.SubjectAltNameMatcher_DNS {
		return dnsNameMatch(e.Exact, gn.value)
	}
	return m.matchString(s.GetMatcher(), gn.value)
}

// matchAnySAN is DefaultCertValidator::matchSubjectAltName: some matcher
// matches some SAN of the certificate.
func (m *Model) matchAnySAN(matchers []*tlsv3.SubjectAltNameMatcher, c *x509.Certificate) bool {
	names := generalNames(c)
	for _, s := range matchers {
		for _, gn := range names {
			if m.matchSAN(s, gn) {
				return true
			}
		}
	}
	return false
}

// describeSAN renders a SAN matcher.
func describeSAN(s *tlsv3.SubjectAltNameMatcher) string {
	return fmt.Sprintf("%s %s", s.GetSanType(), describeStringMatcher(s.GetMatcher()))
}

// dnsNameMatch is Utility::dnsNameMatch (source/common/tls/utility.cc):
// case-insensitive equality, or the pattern's left-most label holds the
// only '*' (and is not an A-label) and matches one whole label of the name,
// the rest equal.
func dnsNameMatch(name, pattern string) bool {
	name, pattern = asciiLower(name), asciiLower(pattern)
	if name == pattern {
		return true
	}
	pFirst, pRest, ok1 := strings.Cut(pattern, ".")
	nFirst, nRest, ok2 := strings.Cut(name, ".")
	if !ok1 || !ok2 {
		return false
	}
	if strings.Contains(pFirst, "*") && !strings.Contains(pRest, "*") && !strings.HasPrefix(pFirst, "xn--") {
		return nRest == pRest && labelWildcardMatch(nFirst, pFirst)
	}
	return false
}

// labelWildcardMatch is Utility::labelWildcardMatch: "*" matches any
// label; otherwise the pattern holds exactly one '*', the text before it
// must start the label and the text after it end it (the star may stand for
// nothing).
func labelWildcardMatch(label, pattern string) bool {
	if pattern == "*" {
		return true
	}
	if strings.Count(pattern, "*") != 1 {
		return false
	}
	pre, suf, _ := strings.Cut(pattern, "*")
	return len(pattern) <= len(label)+1 && strings.HasPrefix(label, pre) && strings.HasSuffix(label, suf)
}

// pinsMatch is verifyCertificateHashList / verifyCertificateSpkiList: the
// SHA-256 of the certificate (hex, colons allowed) or of its
// SubjectPublicKeyInfo (base64) is listed.
func pinsMatch(c *x509.Certificate, hashes, spkis []string) bool {
	h := sha256.Sum256(c.Raw)
	for _, want := range hashes {
		w, err := hex.DecodeString(strings.ReplaceAll(want, ":", ""))
		if err == nil && string(w) == string(h[:]) {
			return true
		}
	}
	s := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	for _, want := range spkis {
		w, err := base64.StdEncoding.DecodeString(want)
		if err == nil && string(w) == string(s[:]) {
			return true
		}
	}
	return false
}
