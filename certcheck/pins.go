package certcheck

import (
	"encoding/base64"
	"fmt"
	"strings"
)

const (
	spkiFix = "Compute the pin as base64 of the SHA-256 of the SubjectPublicKeyInfo: openssl x509 -in client.crt -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | openssl enc -base64"
	hashFix = "Compute it as the hex SHA-256 of the DER certificate: openssl x509 -in client.crt -outform DER | openssl dgst -sha256 (or -noout -fingerprint -sha256 for the colon form)."
)

// CheckSPKI diagnoses verifyCertificateSpki values: each must be the
// standard base64 (44 characters, padded) of a 32-byte SHA-256.
func CheckSPKI(values []string) []Finding {
	var out []Finding
	for i, v := range values {
		// Go's decoder skips newlines; Envoy's does not, so check the length.
		if raw, err := base64.StdEncoding.DecodeString(v); err == nil && len(raw) == 32 && len(v) == 44 {
			continue
		}
		out = append(out, errorf(CodeSPKIInvalid, spkiFix,
			"verifyCertificateSpki[%d] %q is not a base64 SHA-256 (44 characters ending in '=')%s: Envoy rejects the listener ('Invalid base64-encoded SHA-256 %s'), and no certificate could meet this constraint.",
			i, v, spkiHint(v), v))
	}
	return out
}

// spkiHint names the usual mistake behind a bad SPKI pin.
func spkiHint(v string) string {
	trimmed := strings.TrimSpace(v)
	switch {
	case trimmed != v:
		return " (it has leading or trailing whitespace)"
	case strings.HasPrefix(v, "sha256/"):
		return " (drop the curl/HPKP 'sha256//' prefix)"
	case isHex(v) && len(v) == 64:
		return " (it is hex: a hex SHA-256 of the certificate belongs in verifyCertificateHash)"
	}
	if raw, err := base64.RawStdEncoding.DecodeString(v); err == nil && len(raw) == 32 {
		return " (the trailing '=' padding is missing)"
	}
	if raw, err := base64.URLEncoding.DecodeString(v); err == nil && len(raw) == 32 {
		return " (it uses the URL-safe alphabet '-_': use standard base64 '+/')"
	}
	if raw, err := base64.StdEncoding.DecodeString(v); err == nil {
		if len(raw) == 20 {
			return " (it decodes to 20 bytes: a SHA-1, not a SHA-256)"
		}
		return fmt.Sprintf(" (it decodes to %d bytes, not 32)", len(raw))
	}
	return ""
}

// CheckCertHash diagnoses verifyCertificateHash values: each must be a hex
// SHA-256, 64 characters, or 95 with colons (OpenSSL's fingerprint form).
func CheckCertHash(values []string) []Finding {
	var out []Finding
	for i, v := range values {
		h := v
		if len(h) == 95 {
			// Envoy strips colons from exactly this length only.
			h = strings.ReplaceAll(h, ":", "")
		}
		if len(h) == 64 && isHex(h) {
			continue
		}
		out = append(out, errorf(CodeCertHashInvalid, hashFix,
			"verifyCertificateHash[%d] %q is not a hex SHA-256 (64 hex digits, or 95 characters with colons)%s: Envoy rejects the listener ('Invalid hex-encoded SHA-256 %s'), and no certificate could meet this constraint.",
			i, v, hashHint(v), v))
	}
	return out
}

// hashHint names the usual mistake behind a bad certificate hash.
func hashHint(v string) string {
	bare := strings.ReplaceAll(v, ":", "")
	switch {
	case strings.TrimSpace(v) != v:
		return " (it has leading or trailing whitespace)"
	case strings.Contains(v, "="):
		if _, after, ok := strings.Cut(v, "="); ok && strings.Contains(strings.ToLower(v), "fingerprint") {
			return fmt.Sprintf(" (drop the %q prefix that openssl prints: keep %q)", strings.TrimSuffix(v, after), after)
		}
		return " (it looks like base64: a base64 SPKI pin belongs in verifyCertificateSpki)"
	case isHex(bare) && len(bare) == 40:
		return " (it is a SHA-1 fingerprint, openssl's old default: add -sha256)"
	case isHex(bare) && len(bare) == 32:
		return " (it is an MD5 fingerprint: use -sha256)"
	case isHex(bare) && len(bare) == 64:
		return " (colons are accepted only in the full 95-character fingerprint form)"
	case len(v) == 44:
		return " (it looks like base64: a base64 SPKI pin belongs in verifyCertificateSpki)"
	}
	return ""
}

// isHex reports whether s is non-empty and made of hex digits only.
func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
