package envoymodel

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

// TestRFC2253MultiValuedAndUnknown: BoringSSL's do_name_ex
// (crypto/x509/name_print.c) reverses every entry, those of a multi-valued
// RDN too, and dumps the value of a type without a NID as #hex of its DER
// (XN_FLAG_DUMP_UNKNOWN_FIELDS).
func TestRFC2253MultiValuedAndUnknown(t *testing.T) {
	cn, o := asn1.ObjectIdentifier{2, 5, 4, 3}, asn1.ObjectIdentifier{2, 5, 4, 10}
	tests := map[string]struct {
		rdns pkix.RDNSequence
		want string
	}{
		// DER sorts a SET OF by encoding: CN (2.5.4.3) before O.
		"multi-valued RDN reversed": {pkix.RDNSequence{{{Type: o, Value: "B"}, {Type: cn, Value: "a"}}}, "O=B+CN=a"},
		"unknown type dumped":       {pkix.RDNSequence{{{Type: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: "x:z"}}}, "1.2.3.4=#1303783A7A"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := asn1.Marshal(tc.rdns)
			if err != nil {
				t.Fatal(err)
			}
			if got := rfc2253(raw); got != tc.want {
				t.Errorf("rfc2253 = %q, want %q", got, tc.want)
			}
		})
	}
}
