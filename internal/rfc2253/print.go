package rfc2253

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// shortNames are BoringSSL's short names (OBJ_nid2sn) of the attribute
// types a distinguished name usually holds; a type without a NID prints as
// its dotted OID. Types BoringSSL knows that are missing here would print
// as an OID where Envoy prints a name.
var shortNames = map[string]string{
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
	"2.5.4.13":                   "description",
	"2.5.4.15":                   "businessCategory",
	"2.5.4.17":                   "postalCode",
	"2.5.4.41":                   "name",
	"2.5.4.42":                   "GN",
	"2.5.4.43":                   "initials",
	"2.5.4.44":                   "generationQualifier",
	"2.5.4.45":                   "x500UniqueIdentifier",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "emailAddress",
}

// Print renders a DER-encoded name as do_name_ex does with XN_FLAG_RFC2253
// (BoringSSL crypto/x509/name_print.c; Envoy calls it in
// source/common/tls/utility.cc, getRFC2253NameFromCertificate): the
// entries from last to first, those of one multi-valued RDN included,
// joined by "," between RDNs and "+" within one; short type names; the
// value of a type without a NID, and any value that is not a string, as
// "#" and the upper-case hex of its DER (XN_FLAG_DUMP_UNKNOWN_FIELDS,
// ASN1_STRFLGS_DUMP_UNKNOWN | ASN1_STRFLGS_DUMP_DER); strings escaped as
// Escape describes.
func Print(raw []byte) (string, error) {
	var seq pkix.RDNSequence
	rest, err := asn1.Unmarshal(raw, &seq)
	if err != nil {
		return "", fmt.Errorf("distinguished name: %w", err)
	}
	if len(rest) > 0 {
		return "", errors.New("distinguished name: trailing data")
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		for j := len(seq[i]) - 1; j >= 0; j-- {
			switch {
			case j < len(seq[i])-1:
				b.WriteByte('+')
			case i < len(seq)-1:
				b.WriteByte(',')
			}
			if err := writeAttribute(&b, seq[i][j]); err != nil {
				return "", err
			}
		}
	}
	return b.String(), nil
}

// writeAttribute writes TYPE=value.
func writeAttribute(b *strings.Builder, atv pkix.AttributeTypeAndValue) error {
	name, known := shortNames[atv.Type.String()]
	if !known {
		name = atv.Type.String()
	}
	b.WriteString(name)
	b.WriteByte('=')
	if s, ok := atv.Value.(string); ok && known {
		escape(b, s, true, true)
		return nil
	}
	der, err := asn1.Marshal(atv.Value)
	if err != nil {
		return fmt.Errorf("distinguished name: %s: %w", name, err)
	}
	b.WriteByte('#')
	b.WriteString(strings.ToUpper(hex.EncodeToString(der)))
	return nil
}

// Escape escapes an attribute value, or a part of one, as do_esc_char
// does with ASN1_STRFLGS_RFC2253 on its UTF-8 bytes (BoringSSL
// crypto/asn1/a_strex.c): ,+"\<>; get a backslash, so do a leading # or
// space (when s starts the value) and a trailing space (when s ends it);
// control characters and every byte past 0x7e become \XX (ESC_CTRL,
// ESC_MSB).
func Escape(s string, atStart, atEnd bool) string {
	var b strings.Builder
	escape(&b, s, atStart, atEnd)
	return b.String()
}

func escape(b *strings.Builder, s string, atStart, atEnd bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(`,+"\<>;`, c) >= 0,
			i == 0 && atStart && (c == '#' || c == ' '),
			i == len(s)-1 && atEnd && c == ' ':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(b, `\%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
}
