package rfc2253

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

// TestPrintAsEnvoyPrints: names as Envoy prints %DOWNSTREAM_PEER_SUBJECT%
// (X509_NAME_print_ex with XN_FLAG_RFC2253, source/common/tls/utility.cc
// getRFC2253NameFromCertificate; BoringSSL crypto/x509/name_print.c
// do_name_ex): BoringSSL's short names, bytes outside printable ASCII
// escaped as \XX, unknown types dumped, multi-valued RDNs reversed and
// joined by "+". Go's pkix printer differs on each of these.
func TestPrintAsEnvoyPrints(t *testing.T) {
	oid := func(s ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(s) }
	cn, o := oid(2, 5, 4, 3), oid(2, 5, 4, 10)
	one := func(t asn1.ObjectIdentifier, v any) pkix.RelativeDistinguishedNameSET {
		return pkix.RelativeDistinguishedNameSET{{Type: t, Value: v}}
	}
	tests := map[string]struct {
		rdns pkix.RDNSequence
		want string
	}{
		"plain, last RDN first": {pkix.RDNSequence{one(o, "Example"), one(cn, "app")}, "CN=app,O=Example"},
		"non-ASCII escaped as UTF-8 bytes": {pkix.RDNSequence{one(o, "Müller GmbH"), one(cn, "app")},
			`CN=app,O=M\C3\BCller GmbH`},
		"emailAddress by its short name": {pkix.RDNSequence{one(oid(1, 2, 840, 113549, 1, 9, 1), "ops@example.com"), one(cn, "app")},
			"CN=app,emailAddress=ops@example.com"},
		"serialNumber, DC and UID by their short names": {pkix.RDNSequence{
			one(oid(0, 9, 2342, 19200300, 100, 1, 25), "example"), one(oid(0, 9, 2342, 19200300, 100, 1, 1), "u1"),
			one(oid(2, 5, 4, 5), "42")}, "serialNumber=42,UID=u1,DC=example"},
		// XN_FLAG_DUMP_UNKNOWN_FIELDS: the value's DER in upper-case hex.
		"an unknown type as its OID, its value dumped": {pkix.RDNSequence{one(oid(1, 2, 3, 4), "x:z")}, "1.2.3.4=#1303783A7A"},
		// XN_FLAG_DN_REV reverses the entries, those of one RDN too; DER
		// sorts a SET OF by encoding, so CN (2.5.4.3) comes before O.
		"multi-valued RDN reversed": {pkix.RDNSequence{{{Type: o, Value: "B"}, {Type: cn, Value: "a"}}},
			"O=B+CN=a"},
		"a non-string value dumped":   {pkix.RDNSequence{one(o, 7)}, "O=#020107"},
		"special characters escaped":  {pkix.RDNSequence{one(cn, `#a,b+c"d\e<f>g;h `)}, `CN=\#a\,b\+c\"d\\e\<f\>g\;h\ `},
		"a control character escaped": {pkix.RDNSequence{one(cn, "a\tb")}, `CN=a\09b`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := asn1.Marshal(tc.rdns)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Print(raw); err != nil || got != tc.want {
				t.Errorf("Print = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestPrintRefusesWhatIsNotAName(t *testing.T) {
	for name, raw := range map[string][]byte{"empty": nil, "trailing data": {0x30, 0x00, 0x00}, "not a sequence": {0x02, 0x01, 0x01}} {
		if got, err := Print(raw); err == nil {
			t.Errorf("%s: Print = %q, want an error", name, got)
		}
	}
}

func TestEscape(t *testing.T) {
	tests := map[string]struct {
		in             string
		atStart, atEnd bool
		want           string
	}{
		"plain":                            {in: "abc", atStart: true, atEnd: true, want: "abc"},
		"specials":                         {in: `a,b+c"d\e<f>g;h`, want: `a\,b\+c\"d\\e\<f\>g\;h`},
		"leading hash and space":           {in: "# x ", atStart: true, atEnd: true, want: `\# x\ `},
		"hash and space mid-value":         {in: "# x ", want: "# x "},
		"control and non-ASCII bytes":      {in: "a\tü", want: `a\09\C3\BC`},
		"leading space only when at start": {in: " a", atStart: false, want: " a"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Escape(tc.in, tc.atStart, tc.atEnd); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
