package certcheck

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// colons formats bytes as OpenSSL's fingerprint ("AB:CD:...").
func colons(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

func TestCheckSPKI(t *testing.T) {
	p := testPKI(t)
	spki := sha256.Sum256(p.leaf.cert.RawSubjectPublicKeyInfo)
	pin := base64.StdEncoding.EncodeToString(spki[:])
	sha1sum := sha1.Sum(p.leaf.cert.RawSubjectPublicKeyInfo)
	tests := map[string]struct {
		value string
		valid bool
		hint  string // a phrase the message must hold
	}{
		"pin of a real certificate":      {value: pin, valid: true},
		"Envoy's documented example pin": {value: "NvqYIYSbgK2vCJpQhObf77vv+bQWtc5ek5RIOwPiC9A=", valid: true},
		"padding missing":                {value: strings.TrimSuffix(pin, "="), hint: "padding is missing"},
		"URL-safe alphabet":              {value: urlSafePin(), hint: "URL-safe"},
		"hex instead of base64":          {value: hex.EncodeToString(spki[:]), hint: "verifyCertificateHash"},
		"curl pinnedpubkey prefix":       {value: "sha256//" + pin, hint: "sha256//"},
		"SHA-1 of the SPKI":              {value: base64.StdEncoding.EncodeToString(sha1sum[:]), hint: "SHA-1"},
		"trailing newline":               {value: pin + "\n", hint: "whitespace"},
		"garbage":                        {value: "not a pin", hint: "not a base64 SHA-256"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := CheckSPKI([]string{tc.value})
			if tc.valid {
				if len(got) != 0 {
					t.Fatalf("valid pin reported: %v", got)
				}
				return
			}
			if diff := cmp.Diff([]string{CodeSPKIInvalid}, codes(got)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s", diff)
			}
			checkWellFormed(t, got)
			if !strings.Contains(got[0].Message, "Invalid base64-encoded SHA-256") || !strings.Contains(got[0].Message, tc.hint) {
				t.Errorf("message %q lacks Envoy's error or the hint %q", got[0].Message, tc.hint)
			}
		})
	}
}

// urlSafePin returns a base64url SHA-256 that uses '-' or '_', so that it
// really differs from the standard encoding Envoy expects.
func urlSafePin() string {
	for i := 0; ; i++ {
		sum := sha256.Sum256([]byte{byte(i)})
		if u := base64.URLEncoding.EncodeToString(sum[:]); strings.ContainsAny(u, "-_") {
			return u
		}
	}
}

func TestCheckCertHash(t *testing.T) {
	p := testPKI(t)
	sum := sha256.Sum256(p.leaf.cert.Raw)
	sha1sum := sha1.Sum(p.leaf.cert.Raw)
	hexSum := hex.EncodeToString(sum[:])
	tests := map[string]struct {
		value string
		hint  string // "" for a valid hash
	}{
		"hex SHA-256 of a real certificate": {value: hexSum},
		"upper case hex":                    {value: strings.ToUpper(hexSum)},
		"OpenSSL fingerprint with colons":   {value: colons(sum[:])},
		"SHA-1 fingerprint":                 {value: colons(sha1sum[:]), hint: "SHA-1 fingerprint"},
		"SHA-1 hex":                         {value: hex.EncodeToString(sha1sum[:]), hint: "SHA-1 fingerprint"},
		"MD5 fingerprint":                   {value: strings.Repeat("ab", 16), hint: "MD5"},
		"openssl output prefix":             {value: "SHA256 Fingerprint=" + colons(sum[:]), hint: "drop the"},
		"base64 SPKI pin in the hash list":  {value: base64.StdEncoding.EncodeToString(sum[:]), hint: "verifyCertificateSpki"},
		"colons in a partial form":          {value: hexSum[:2] + ":" + hexSum[2:], hint: "95-character"},
		"trailing space":                    {value: hexSum + " ", hint: "whitespace"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := CheckCertHash([]string{tc.value})
			if tc.hint == "" {
				if len(got) != 0 {
					t.Fatalf("valid hash reported: %v", got)
				}
				return
			}
			if diff := cmp.Diff([]string{CodeCertHashInvalid}, codes(got)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s", diff)
			}
			checkWellFormed(t, got)
			if !strings.Contains(got[0].Message, "Invalid hex-encoded SHA-256") || !strings.Contains(got[0].Message, tc.hint) {
				t.Errorf("message %q lacks Envoy's error or the hint %q", got[0].Message, tc.hint)
			}
		})
	}
}

func TestPinsReportEachBadValueByIndex(t *testing.T) {
	got := CheckCertHash([]string{strings.Repeat("a", 64), "x", strings.Repeat("b", 64), "y"})
	var where []string
	for _, f := range got {
		where = append(where, f.Message[:len("verifyCertificateHash[1]")])
	}
	if diff := cmp.Diff([]string{"verifyCertificateHash[1]", "verifyCertificateHash[3]"}, where); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
