package props

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"regexp"
	"strings"
)

// rfc2253Subject is the certificate's subject in RFC 2253 form, as Go
// prints it (RDNs in reverse order).
func rfc2253Subject(c *x509.Certificate) string { return c.Subject.ToRDNSequence().String() }

// rfc2253Issuer is the issuer in RFC 2253 form.
func rfc2253Issuer(c *x509.Certificate) string { return c.Issuer.ToRDNSequence().String() }

// peerValue is what an identity header carries, by field.
func peerValue(field string, c *x509.Certificate, validated bool) (string, bool) {
	if c == nil {
		if field == "verify" {
			return "NONE", true
		}
		return "", false
	}
	sans := certSANs(c)
	h := sha256.Sum256(c.Raw)
	v := map[string]string{
		"subject": rfc2253Subject(c), "issuer": rfc2253Issuer(c),
		"uriSan": strings.Join(sans["URI"], ","), "dnsSan": strings.Join(sans["DNS"], ","),
		"fingerprint": hex.EncodeToString(h[:]), "serial": strings.ToLower(c.SerialNumber.Text(16)),
		"verify": "SUCCESS",
	}[field]
	if field == "verify" && !validated {
		v = "NONE"
	}
	return v, v != ""
}

// peerCommand maps a %DOWNSTREAM_PEER_...% command to its field.
var peerCommand = map[string]string{
	"DOWNSTREAM_PEER_SUBJECT": "subject", "DOWNSTREAM_PEER_ISSUER": "issuer",
	"DOWNSTREAM_PEER_URI_SAN": "uriSan", "DOWNSTREAM_PEER_DNS_SAN": "dnsSan",
	"DOWNSTREAM_PEER_FINGERPRINT_256": "fingerprint", "DOWNSTREAM_PEER_SERIAL": "serial",
}

var commandRef = regexp.MustCompile(`%([A-Z0-9_]+)%`)

// derivedValue is the value a VirtualService header expression gives for a
// certificate: its %DOWNSTREAM_PEER_...% commands replaced; nothing when a
// command has no value (no certificate), as the header is then not sent.
func derivedValue(expr string, c *x509.Certificate) (string, bool) {
	ok := true
	out := commandRef.ReplaceAllStringFunc(expr, func(m string) string {
		field, known := peerCommand[strings.Trim(m, "%")]
		if !known {
			return m
		}
		v, has := peerValue(field, c, true)
		if !has {
			ok = false
		}
		return v
	})
	return out, ok && out != ""
}
