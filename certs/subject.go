package certs

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/internal/rfc2253"
)

// Subject is a certificate's subject beyond its common name, or all of it
// (DN).
type Subject struct {
	Organization       []string // O, repeatable
	OrganizationalUnit []string // OU, repeatable
	Locality           string   // L
	Province           string   // ST
	Country            string   // C: two letters (ISO 3166)

	// DN, when set, is the whole subject, common name included, in the
	// order written; the fields above and the common name option must then
	// be empty. Two spellings are accepted:
	//   - RFC 4514, as Envoy prints %DOWNSTREAM_PEER_SUBJECT%:
	//     "CN=app,L=eu10,OU=Clients,O=Example SE,C=DE";
	//   - openssl's -subj, in certificate order: "/C=DE/O=Example SE/OU=Clients/L=eu10/CN=app".
	// Both give the same certificate, which Envoy prints as the first form.
	DN string
}

// Attribute types of a distinguished name that trustgate certs writes.
var dnAttributes = map[string]asn1.ObjectIdentifier{
	"CN": {2, 5, 4, 3},
	"C":  {2, 5, 4, 6},
	"L":  {2, 5, 4, 7},
	"ST": {2, 5, 4, 8},
	"O":  {2, 5, 4, 10},
	"OU": {2, 5, 4, 11},
}

var oidCommonName = dnAttributes["CN"]

// name builds the subject from a common name and s. The separate fields
// are written in Go's (and openssl's usual) certificate order C, ST, L, O,
// OU, CN, one RDN per value (Go's pkix.Name would fold repeated O or OU
// values into one multi-valued RDN, printed "OU=a+OU=b"); Envoy prints the
// result as "CN=…,OU=…,O=…,L=…,ST=…,C=…". A DN keeps its own order.
func (s Subject) name(cn string) (pkix.Name, error) {
	if s.DN == "" {
		if err := checkCountry(s.Country); err != nil {
			return pkix.Name{}, err
		}
		var attrs []pkix.AttributeTypeAndValue
		add := func(typ string, vals ...string) {
			for _, v := range vals {
				if typ == "C" {
					v = strings.ToUpper(v)
				}
				attrs = append(attrs, pkix.AttributeTypeAndValue{Type: dnAttributes[typ], Value: v})
			}
		}
		for _, f := range []struct {
			typ  string
			vals []string
		}{
			{"C", nonEmpty(s.Country)}, {"ST", nonEmpty(s.Province)}, {"L", nonEmpty(s.Locality)},
			{"O", s.Organization}, {"OU", s.OrganizationalUnit}, {"CN", nonEmpty(cn)},
		} {
			add(f.typ, f.vals...)
		}
		for _, atv := range attrs {
			if strings.TrimSpace(atv.Value.(string)) == "" {
				return pkix.Name{}, fmt.Errorf("subject attribute %s: empty value", attrName(atv.Type))
			}
		}
		return pkix.Name{ExtraNames: attrs}, nil
	}
	if cn != "" || len(s.Organization)+len(s.OrganizationalUnit) > 0 || s.Locality+s.Province+s.Country != "" {
		return pkix.Name{}, errors.New("a subject DN is the whole subject: give the common name, O, OU, L, ST and C inside it, not besides it")
	}
	attrs, err := ParseDN(s.DN)
	if err != nil {
		return pkix.Name{}, err
	}
	// ExtraNames are written in order, and an attribute type that appears
	// there is left out of the named fields: the subject is exactly attrs.
	return pkix.Name{ExtraNames: attrs}, nil
}

// nonEmpty returns s as a one-element list, or none for "".
func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// checkCountry accepts "" or two letters.
func checkCountry(c string) error {
	if c == "" {
		return nil
	}
	if len(c) != 2 || !isLetter(c[0]) || !isLetter(c[1]) {
		return fmt.Errorf("country %q: want a two-letter ISO 3166 code such as DE or US", c)
	}
	return nil
}

func isLetter(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }

// commonName returns the CN of a subject built by name.
func commonName(n pkix.Name) string {
	for _, atv := range n.ExtraNames {
		if atv.Type.Equal(oidCommonName) {
			if s, ok := atv.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// withCommonName returns n with its CN replaced by cn (or added last).
func withCommonName(n pkix.Name, cn string) pkix.Name {
	extra := make([]pkix.AttributeTypeAndValue, len(n.ExtraNames))
	copy(extra, n.ExtraNames)
	for i, atv := range extra {
		if atv.Type.Equal(oidCommonName) {
			extra[i].Value = cn
			return pkix.Name{ExtraNames: extra}
		}
	}
	return pkix.Name{ExtraNames: append(extra, pkix.AttributeTypeAndValue{Type: oidCommonName, Value: cn})}
}

// ParseDN parses a distinguished name written as RFC 4514 ("CN=x,O=y,C=DE",
// the last RDN of the certificate first, as Envoy and openssl -nameopt
// RFC2253 print it) or as openssl's -subj ("/C=DE/O=y/CN=x", certificate
// order), and returns its attributes in certificate order. Attribute types
// are CN, O, OU, L, ST and C; a backslash escapes the next character (or
// two hex digits, a byte). Multi-valued RDNs ("+") are not supported.
func ParseDN(dn string) ([]pkix.AttributeTypeAndValue, error) {
	dn = strings.TrimSpace(dn)
	sep, reverse := ',', true
	if strings.HasPrefix(dn, "/") {
		sep, reverse, dn = '/', false, dn[1:]
	}
	if dn == "" {
		return nil, errors.New("subject DN is empty")
	}
	parts, err := splitEscaped(dn, sep)
	if err != nil {
		return nil, fmt.Errorf("subject DN %q: %w", dn, err)
	}
	attrs := make([]pkix.AttributeTypeAndValue, 0, len(parts))
	for _, p := range parts {
		atv, err := parseAttribute(p)
		if err != nil {
			return nil, fmt.Errorf("subject DN %q: %w", dn, err)
		}
		attrs = append(attrs, atv)
	}
	if reverse {
		for i, j := 0, len(attrs)-1; i < j; i, j = i+1, j-1 {
			attrs[i], attrs[j] = attrs[j], attrs[i]
		}
	}
	return attrs, nil
}

// splitEscaped splits s at every sep not preceded by a backslash; the
// parts keep their escapes.
func splitEscaped(s string, sep rune) ([]string, error) {
	var parts []string
	start, escaped := 0, false
	for i, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if escaped {
		return nil, errors.New("it ends with a lone backslash")
	}
	return append(parts, s[start:]), nil
}

// parseAttribute parses "TYPE=value".
func parseAttribute(p string) (pkix.AttributeTypeAndValue, error) {
	typ, raw, ok := strings.Cut(p, "=")
	typ = strings.ToUpper(strings.TrimSpace(typ))
	if !ok || typ == "" {
		return pkix.AttributeTypeAndValue{}, fmt.Errorf("%q: want TYPE=value", p)
	}
	oid, known := dnAttributes[typ]
	if !known {
		return pkix.AttributeTypeAndValue{}, fmt.Errorf("attribute type %q: want one of CN, O, OU, L, ST, C", typ)
	}
	val, err := unescapeDN(strings.TrimSpace(raw))
	if err != nil {
		return pkix.AttributeTypeAndValue{}, fmt.Errorf("%s: %w", typ, err)
	}
	switch {
	case val == "":
		return pkix.AttributeTypeAndValue{}, fmt.Errorf("%s: empty value", typ)
	case typ == "C":
		if err := checkCountry(val); err != nil {
			return pkix.AttributeTypeAndValue{}, err
		}
		val = strings.ToUpper(val)
	}
	return pkix.AttributeTypeAndValue{Type: oid, Value: val}, nil
}

// unescapeDN resolves backslash escapes: "\," is a comma, "\2C" a byte;
// an unescaped "+" (a multi-valued RDN) is refused.
func unescapeDN(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '+':
			return "", errors.New("multi-valued RDNs (+) are not supported; escape a literal plus as \\+")
		case c != '\\':
			b.WriteByte(c)
		case i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			h, err := hex.DecodeString(v[i+1 : i+3])
			if err != nil {
				return "", err
			}
			b.Write(h)
			i += 2
		default:
			i++ // splitEscaped guarantees a following character
			b.WriteByte(v[i])
		}
	}
	return b.String(), nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// attrName is the short name of an attribute type ("CN"), or its OID.
func attrName(oid asn1.ObjectIdentifier) string {
	for name, o := range dnAttributes {
		if o.Equal(oid) {
			return name
		}
	}
	return oid.String()
}

// PrintedSubject returns a certificate's subject as Envoy prints it for
// %DOWNSTREAM_PEER_SUBJECT% (rfc2253.Print), the value an authorization
// rule on the subject must match. Go's pkix.Name.String differs: it
// reorders attributes, and RDNSequence.String keeps non-ASCII bytes, names
// emailAddress, DC and UID by their OIDs and dumps them in lower case.
func PrintedSubject(c *x509.Certificate) (string, error) {
	s, err := rfc2253.Print(c.RawSubject)
	if err != nil {
		return "", fmt.Errorf("subject: %w", err)
	}
	return s, nil
}
