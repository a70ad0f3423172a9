package certcheck

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/trustgate/trustgate/internal/rfc2253"
)

// describe names a certificate for messages: its subject, or its serial
// when the subject is empty.
func describe(c *x509.Certificate) string {
	if s := printedName(c.RawSubject, c.Subject); s != "" {
		return s
	}
	return "serial " + c.SerialNumber.String()
}

// printedName renders a DER name as Envoy prints it (rfc2253.Print); Go's
// pkix.Name.String, which reorders attributes and folds repeated types
// into one RDN, is only the fallback for a name that does not parse.
func printedName(raw []byte, parsed pkix.Name) string {
	s, err := rfc2253.Print(raw)
	if err != nil {
		return parsed.String()
	}
	return s
}

// where names the i-th (0-based) certificate of a file.
func where(file string, i int, c *x509.Certificate) string {
	return fmt.Sprintf("%s certificate %d (%s)", file, i+1, describe(c))
}

// days rounds a duration to whole days for messages.
func days(d time.Duration) int { return int(math.Round(d.Hours() / 24)) }

// date formats a time for messages.
func date(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// checkValidity reports an expired, not yet valid or soon expiring
// certificate; what names it.
func checkValidity(c *x509.Certificate, what string, now time.Time, warn time.Duration) []Finding {
	switch {
	case now.After(c.NotAfter):
		return []Finding{errorf(CodeExpired,
			"Renew it (and check that renewal is automated: cert-manager, trustgate certs issue --replace).",
			"%s expired on %s (%d days ago): peers reject it with 'certificate has expired' (Go: 'x509: certificate has expired or is not yet valid').",
			what, date(c.NotAfter), days(now.Sub(c.NotAfter)))}
	case now.Before(c.NotBefore):
		return []Finding{errorf(CodeNotYetValid,
			"Check the clock of the machine that issued it (and of this one); wait, or re-issue it with a NotBefore in the past.",
			"%s is not valid before %s: peers reject it with 'certificate is not yet valid' (Go: 'x509: certificate has expired or is not yet valid').",
			what, date(c.NotBefore))}
	case warn > 0 && c.NotAfter.Sub(now) < warn:
		return []Finding{warnf(CodeExpiringSoon,
			"Renew it before then.",
			"%s expires on %s (in %d days).", what, date(c.NotAfter), days(c.NotAfter.Sub(now)))}
	}
	return nil
}

// checkStrength warns about RSA keys under 2048 bits and SHA-1 or MD5
// signatures.
func checkStrength(c *x509.Certificate, what string) []Finding {
	var out []Finding
	if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		out = append(out, warnf(CodeWeakKey,
			"Re-issue it with an RSA key of 2048 bits or more, or with ECDSA P-256.",
			"%s has a %d-bit RSA key: it can be factored with modest means, and many clients refuse it (OpenSSL at security level 2: 'ee key too small' / 'ca key too small'; Go refuses keys under 1024 bits).",
			what, k.N.BitLen()))
	}
	// A trust anchor's self-signature is never checked, so its algorithm
	// does not matter; every other signature does.
	if weakSignature(c.SignatureAlgorithm) && !selfSigned(c) {
		out = append(out, warnf(CodeWeakSignature,
			"Re-issue it with a SHA-256 signature.",
			"%s is signed with %s, which is broken for signatures: Go rejects it ('x509: cannot verify signature: insecure algorithm %s') and OpenSSL at security level 1 or more fails with 'ca md too weak'.",
			what, c.SignatureAlgorithm, c.SignatureAlgorithm))
	}
	return out
}

func weakSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1:
		return true
	}
	return false
}

// signedBy reports whether parent issued child: the names chain and
// parent's key verifies child's signature.
func signedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	// CheckSignature (unlike CheckSignatureFrom) still verifies SHA-1, so a
	// SHA-1 chain is diagnosed as weak rather than as broken.
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	if err == nil {
		return true
	}
	var insecure x509.InsecureAlgorithmError
	if errors.As(err, &insecure) {
		// MD5: Go cannot verify it any more; trust the names and key IDs.
		return len(child.AuthorityKeyId) == 0 || len(parent.SubjectKeyId) == 0 ||
			bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	return false
}

// selfSigned reports whether a certificate signed itself (a root).
func selfSigned(c *x509.Certificate) bool { return signedBy(c, c) }

// issuerIn returns the index of the certificate in certs that issued c,
// skipping c itself, or -1.
func issuerIn(c *x509.Certificate, certs []*x509.Certificate) int {
	for i, p := range certs {
		if p != c && signedBy(c, p) {
			return i
		}
	}
	return -1
}

// keyMatches reports whether a private key belongs to a public key.
func keyMatches(pub crypto.PublicKey, priv crypto.PrivateKey) bool {
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return false
	}
	p, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(pub)
}

// isCA reports whether a certificate may sign others (basicConstraints
// CA:TRUE).
func isCA(c *x509.Certificate) bool { return c.BasicConstraintsValid && c.IsCA }
