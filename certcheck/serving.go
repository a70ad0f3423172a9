package certcheck

import (
	"crypto/x509"
	"slices"
	"strings"
	"time"
)

// File names used in messages: the keys of a cert-manager Secret.
const (
	fileCert = "tls.crt"
	fileKey  = "tls.key"
	fileCA   = "ca.crt"
	fileCRL  = "ca.crl"
)

// ServingInput is a server certificate to check.
type ServingInput struct {
	Cert []byte // tls.crt: the leaf, then its intermediates
	Key  []byte // tls.key
	// CA is the ca.crt of the same secret, if any. It is only used to find
	// the issuer of the chain (to tell a missing intermediate from a root
	// that clients carry); CheckClientCA diagnoses it.
	CA []byte
	// Hosts the certificate must cover (Gateway server hosts; "ns/" prefixes
	// are dropped, "*" is skipped).
	Hosts []string
	Now   time.Time
	// ExpiryWarning: warn when a certificate expires within it (0: never).
	ExpiryWarning time.Duration
}

// CheckServing diagnoses a serving certificate, its key and its chain.
func CheckServing(in ServingInput) []Finding {
	cb, out := ParsePEMBundle(in.Cert, fileCert)
	certParseFindings := len(out) > 0
	kb, kf := ParsePEMBundle(in.Key, fileKey)
	out = append(out, kf...)
	if len(cb.Certs) == 0 {
		return append(out, noCertificate(cb, kb, certParseFindings)...)
	}
	if cb.KeyBlocks > 0 {
		out = append(out, warnf(CodeKeyExposed,
			"Keep the key in tls.key only, and rotate it if tls.crt was shared.",
			"%s holds a private key: certificate files are shared and logged freely (Envoy ignores the key there).", fileCert))
	}
	kf, misplaced := checkKey(cb, kb)
	out = append(out, kf...)
	if !misplaced {
		out = append(out, checkLeaf(cb.Certs[0], in.Hosts)...)
	}
	for i, c := range cb.Certs {
		out = append(out, checkValidity(c, where(fileCert, i, c), in.Now, in.ExpiryWarning)...)
		out = append(out, checkStrength(c, where(fileCert, i, c))...)
	}
	// The ca.crt is diagnosed by CheckClientCA; here it only helps find the
	// chain's issuer, so its parse findings are not repeated.
	ca, _ := ParsePEMBundle(in.CA, fileCA)
	return append(out, checkChain(cb.Certs, ca.Certs, fileCert)...)
}

// checkLeaf checks what makes a certificate fit to serve hosts: not a CA,
// usable for servers, with SANs covering the hosts.
func checkLeaf(leaf *x509.Certificate, hosts []string) []Finding {
	var out []Finding
	if isCA(leaf) {
		out = append(out, errorf(CodeCAAsLeaf,
			"Issue a leaf certificate from this CA (basicConstraints CA:FALSE, extendedKeyUsage serverAuth) and serve that; keep the CA key offline.",
			"%s (%s) is a CA certificate (basicConstraints CA:TRUE) used as the serving certificate: clients reject it or only accept it as a pinned self-signed root (OpenSSL: 'unsupported certificate purpose' when its key usage lacks digitalSignature), and whoever holds this key can mint certificates for any host.",
			fileCert, describe(leaf)))
	}
	if len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) &&
		!slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		out = append(out, errorf(CodeWrongUsage,
			"Re-issue it with extendedKeyUsage serverAuth (trustgate certs issue server).",
			"%s (%s) has an extendedKeyUsage without serverAuth (a client certificate?): clients fail with 'x509: certificate specifies an incompatible key usage' (OpenSSL: 'unsupported certificate purpose').",
			fileCert, describe(leaf)))
	}
	if san := checkSANPresent(leaf, fileCert); san != nil {
		return append(out, san...)
	}
	return append(out, checkHosts(leaf, hosts, fileCert)...)
}

// noCertificate explains a tls.crt without a certificate.
func noCertificate(cb, kb *Bundle, reported bool) []Finding {
	if cb.KeyBlocks > 0 && len(kb.Certs) > 0 {
		return []Finding{errorf(CodeFilesSwapped,
			"Swap the two files: the certificate goes in tls.crt, the key in tls.key.",
			"%s holds a private key and %s holds a certificate: the files are swapped. Envoy fails with 'Failed to load certificate chain'.", fileCert, fileKey)}
	}
	if reported {
		return nil // the parse findings already say why
	}
	what := "is empty"
	if len(cb.Other) > 0 {
		what = "holds no CERTIFICATE block, only " + strings.Join(cb.Other, ", ")
	}
	return []Finding{errorf(CodeNoCertificate,
		"Put the PEM certificate chain (leaf first) in tls.crt.",
		"%s %s: Envoy fails with 'Failed to load certificate chain'.", fileCert, what)}
}

// checkKey checks that tls.key holds exactly one private key, and that it
// belongs to the leaf; misplaced is true when it belongs to another
// certificate of the file (the leaf is not first).
func checkKey(cb, kb *Bundle) (findings []Finding, misplaced bool) {
	if kb.KeyBlocks == 0 {
		what := "is empty"
		if len(kb.Other) > 0 || len(kb.Certs) > 0 {
			what = "holds no private key"
			if slices.Contains(kb.Other, "PUBLIC KEY") {
				what += " (a PUBLIC KEY is not enough)"
			}
		}
		return []Finding{errorf(CodeKeyMissing,
			"Put the private key generated with the certificate in tls.key (PEM: PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY).",
			"%s %s: Envoy fails with 'Failed to load private key'.", fileKey, what)}, false
	}
	var out []Finding
	if kb.KeyBlocks > 1 {
		out = append(out, warnf(CodeKeyMultiple,
			"Keep only the key that matches the certificate in tls.key.",
			"%s holds %d private keys: Envoy uses the first one only.", fileKey, kb.KeyBlocks))
	}
	if len(kb.Keys) == 0 || keyMatches(cb.Certs[0].PublicKey, kb.Keys[0]) {
		return out, false
	}
	fix := "Use the key this certificate was issued for, or re-issue the certificate; compare 'openssl x509 -noout -pubkey -in tls.crt' with 'openssl pkey -pubout -in tls.key'."
	for i, c := range cb.Certs[1:] {
		if keyMatches(c.PublicKey, kb.Keys[0]) {
			fix = "Put " + where(fileCert, i+1, c) + " first in tls.crt: the certificate that goes with the key (the leaf) must come first, its issuers after it."
			misplaced = true
		}
	}
	return append(out, errorf(CodeKeyMismatch, fix,
		"%s does not match the first certificate in %s (%s), which Envoy serves as the leaf: Envoy rejects the secret ('KEY_VALUES_MISMATCH'; Go: 'tls: private key does not match public key').",
		fileKey, fileCert, describe(cb.Certs[0]))), misplaced
}
