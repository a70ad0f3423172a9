package certcheck

import "fmt"

// Severity says whether a finding breaks traffic (Error) or is a risk or a
// likely mistake (Warning).
type Severity int

// Severities.
const (
	Error Severity = iota
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Finding is one diagnosis.
type Finding struct {
	Severity Severity
	// Code is a stable identifier, one of the Code* constants.
	Code string
	// Message says what is wrong and what it causes, quoting the error a user
	// meets in the wild.
	Message string
	// Fix says how to repair it.
	Fix string
}

// String formats a finding on one line.
func (f Finding) String() string {
	return fmt.Sprintf("%s [%s] %s Fix: %s", f.Severity, f.Code, f.Message, f.Fix)
}

// HasErrors reports whether any finding is an Error.
func HasErrors(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Finding codes.
const (
	// PEM decoding.
	CodePEMInvalid      = "pem-invalid"       // not PEM, or a malformed block
	CodePEMDER          = "pem-der"           // binary DER where PEM is expected
	CodePEMBase64       = "pem-base64"        // base64 of PEM (a Secret's data value)
	CodePEMUnknownBlock = "pem-unknown-block" // a block of an unexpected type

	// Certificates and keys.
	CodeCertUnparseable = "cert-unparseable"
	CodeNoCertificate   = "no-certificate"
	CodeKeyMissing      = "key-missing"
	CodeKeyUnparseable  = "key-unparseable"
	CodeKeyEncrypted    = "key-encrypted"
	CodeKeyMultiple     = "key-multiple"
	CodeKeyMismatch     = "key-mismatch"
	CodeKeyExposed      = "key-exposed" // a private key inside a certificate file
	CodeFilesSwapped    = "files-swapped"

	// The serving certificate.
	CodeCAAsLeaf     = "ca-as-leaf"
	CodeNoSAN        = "no-san"
	CodeSANMismatch  = "san-mismatch"
	CodeWrongUsage   = "wrong-key-usage"
	CodeChainOrder   = "chain-order"
	CodeChainMissing = "chain-incomplete"

	// Any certificate.
	CodeExpired       = "expired"
	CodeNotYetValid   = "not-yet-valid"
	CodeExpiringSoon  = "expiring-soon"
	CodeWeakKey       = "weak-key"
	CodeWeakSignature = "weak-signature"

	// CA bundles and CRLs.
	CodeCAEmpty          = "ca-empty"
	CodeNotCA            = "ca-not-ca"
	CodeCRLUnparseable   = "crl-unparseable"
	CodeCRLUnknownIssuer = "crl-unknown-issuer"
	CodeCRLBadSignature  = "crl-bad-signature"
	CodeCRLIssuerUsage   = "crl-issuer-no-crlsign"
	CodeCRLExpired       = "crl-expired"
	CodeCRLNotYetValid   = "crl-not-yet-valid"
	CodeCRLExpiringSoon  = "crl-expiring-soon"
	CodeCRLMissing       = "crl-missing"

	// Pins.
	CodeSPKIInvalid     = "spki-invalid"
	CodeCertHashInvalid = "cert-hash-invalid"
)

func errorf(code, fix, format string, args ...any) Finding {
	return Finding{Severity: Error, Code: code, Message: fmt.Sprintf(format, args...), Fix: fix}
}

func warnf(code, fix, format string, args ...any) Finding {
	return Finding{Severity: Warning, Code: code, Message: fmt.Sprintf(format, args...), Fix: fix}
}
