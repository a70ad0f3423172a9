package envoymodel

import (
	"crypto/sha1" //nolint:gosec // G505: for Envoy's SHA-1 fingerprint formatter (newPeerCert)
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
)

// peerCert is the client certificate as Envoy's Ssl::ConnectionInfo
// reports it (source/common/tls/connection_info_impl_base.cc).
type peerCert struct {
	cert    *x509.Certificate
	subject string // RFC 2253, as Utility::getSubjectFromCertificate
	issuer  string
	uris    []string
	dns     []string
	ips     []string
	emails  []string
	sha256  string // lower-case hex of the DER
	sha1    string
	serial  string // lower-case hex, as BoringSSL's BN_bn2hex
	urlPEM  string
}

// newPeerCert extracts what Envoy reports about a certificate.
func newPeerCert(c *x509.Certificate) *peerCert {
	p := &peerCert{cert: c, subject: rfc2253(c.RawSubject), issuer: rfc2253(c.RawIssuer)}
	for _, u := range c.URIs {
		p.uris = append(p.uris, u.String())
	}
	p.dns = append(p.dns, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		p.ips = append(p.ips, ip.String())
	}
	p.emails = append(p.emails, c.EmailAddresses...)
	s256 := sha256.Sum256(c.Raw)
	// Not a security use: %DOWNSTREAM_PEER_FINGERPRINT_1% is the SHA-1 of
	// the DER (ConnectionInfoImplBase::sha1PeerCertificateDigest,
	// source/common/tls/connection_info_impl_base.cc), and the model must
	// print what Envoy prints.
	s1 := sha1.Sum(c.Raw) //nolint:gosec // G401: Envoy's SHA-1 fingerprint, reproduced, not trusted
	p.sha256, p.sha1 = hex.EncodeToString(s256[:]), hex.EncodeToString(s1[:])
	p.serial = strings.ToLower(c.SerialNumber.Text(16))
	p.urlPEM = urlEncodePEM(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	return p
}

// urlEncodePEM escapes a PEM the way XFCC's Cert= and
// %DOWNSTREAM_PEER_CERT% carry it: newline, space, +, / and = percent-encoded
// (ConnectionInfoImplBase::urlEncodedPemEncodedPeerCertificate; the exact
// character set is unverified against Envoy).
func urlEncodePEM(s string) string {
	r := strings.NewReplacer("\n", "%0A", " ", "%20", "+", "%2B", "/", "%2F", "=", "%3D")
	return r.Replace(s)
}

// attrShortNames are OpenSSL's short names (OBJ_nid2sn) of the usual
// distinguished-name attributes; others print as their dotted OID.
var attrShortNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.17":                   "postalCode",
	"2.5.4.42":                   "GN",
	"2.5.4.43":                   "initials",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "emailAddress",
}

// rfc2253 prints a DER name as X509_NAME_print_ex with XN_FLAG_RFC2253
// does (source/common/tls/utility.cc, getRFC2253NameFromCertificate): RDNs
// in reverse order separated by ",", the values of a multi-valued RDN by
// "+", short attribute names (an unknown type as its OID, its value as
// #hex of its DER), ,+"\<>; escaped with a backslash, a leading #
// or space and a trailing space escaped, control and non-ASCII bytes as
// \XX, non-string values as #hex of their DER.
func rfc2253(raw []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &seq); err != nil || len(rest) > 0 {
		return ""
	}
	// Every entry is reversed, those of one multi-valued RDN too
	// (XN_FLAG_DN_REV in BoringSSL's do_name_ex, crypto/x509/name_print.c).
	var rdns []string
	for i := len(seq) - 1; i >= 0; i-- {
		var vals []string
		for j := len(seq[i]) - 1; j >= 0; j-- {
			atv := seq[i][j]
			_, known := attrShortNames[atv.Type.String()]
			vals = append(vals, attrName(atv.Type)+"="+attrValue(atv.Value, known))
		}
		rdns = append(rdns, strings.Join(vals, "+"))
	}
	return strings.Join(rdns, ",")
}

// attrName is an attribute's short name or dotted OID.
func attrName(oid asn1.ObjectIdentifier) string {
	if n, ok := attrShortNames[oid.String()]; ok {
		return n
	}
	return oid.String()
}

// attrValue prints one attribute value; the value of a type without a NID
// is dumped as a non-string one is (XN_FLAG_DUMP_UNKNOWN_FIELDS).
func attrValue(v any, known bool) string {
	s, ok := v.(string)
	if !ok || !known {
		der, err := asn1.Marshal(v)
		if err != nil {
			return ""
		}
		return "#" + strings.ToUpper(hex.EncodeToString(der))
	}
	return escapeRFC2253(s)
}

// escapeRFC2253 escapes a value as OpenSSL's do_esc_char with
// ASN1_STRFLGS_RFC2253 (ESC_2253 | ESC_CTRL | ESC_MSB on UTF-8 bytes).
func escapeRFC2253(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(`,+"\<>;`, c) >= 0,
			i == 0 && (c == '#' || c == ' '),
			i == len(s)-1 && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
