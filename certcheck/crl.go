package certcheck

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ClientCAInput is the material Envoy validates client certificates with.
type ClientCAInput struct {
	CA  []byte // ca.crt: the CA bundle
	CRL []byte // ca.crl: zero or more CRLs; may be empty
	// OnlyLeafCRL mirrors ClientCertificatePolicy crl.onlyVerifyLeaf
	// (Envoy's only_verify_leaf_cert_crl): only the CRL of the CA that
	// issued the client certificate is consulted.
	OnlyLeafCRL bool
	Now         time.Time
	// ExpiryWarning: warn when a CA or CRL expires within it (0: never).
	ExpiryWarning time.Duration
}

// CheckClientCA diagnoses a client CA bundle and its CRLs.
func CheckClientCA(in ClientCAInput) []Finding {
	b, out := checkBundle(in.CA, in.Now, in.ExpiryWarning, true)
	crlBundle, crlFindings := ParsePEMBundle(in.CRL, fileCRL)
	out = append(out, crlFindings...)
	if len(bytes.TrimSpace(in.CRL)) > 0 && len(crlBundle.CRLs) == 0 && len(crlFindings) == 0 {
		// Envoy turns CRL checking on whenever the crl field is set, even
		// when it yields no CRL.
		out = append(out, errorf(CodeCRLUnparseable,
			"Put the PEM CRLs (-----BEGIN X509 CRL-----) of the CAs in ca.crl, or leave it empty.",
			"%s holds no CRL (X509 CRL block), yet setting it turns CRL checking on: Envoy rejects every client certificate ('unable to get certificate CRL').", fileCRL))
	}
	if len(b.Certs) == 0 {
		return out
	}
	// Envoy loads the CRLs found in ca.crt too: its trusted_ca loader takes
	// every certificate and CRL of the file.
	covered := map[string]bool{}
	for i, crl := range b.CRLs {
		covered[string(crl.RawIssuer)] = true
		out = append(out, checkCRL(crl, crlWhere(fileCA, i, crl), b.Certs, in.Now, in.ExpiryWarning)...)
	}
	for i, crl := range crlBundle.CRLs {
		covered[string(crl.RawIssuer)] = true
		out = append(out, checkCRL(crl, crlWhere(fileCRL, i, crl), b.Certs, in.Now, in.ExpiryWarning)...)
	}
	if len(covered) == 0 {
		return out
	}
	return append(out, checkCoverage(b.Certs, covered, in.OnlyLeafCRL)...)
}

// crlWhere names the i-th (0-based) CRL of a file.
func crlWhere(file string, i int, crl *x509.RevocationList) string {
	num := ""
	if crl.Number != nil {
		num = ", number " + crl.Number.String()
	}
	return fmt.Sprintf("%s CRL %d (issuer %s%s)", file, i+1, printedName(crl.RawIssuer, crl.Issuer), num)
}

// crlWarnWindow narrows the expiry warning for a CRL to the last third of
// its own validity: CRLs are short-lived by design (a week or a month) and
// republished routinely, so a fixed 30-day window would warn about every
// healthy CRL from the day it is published.
func crlWarnWindow(crl *x509.RevocationList, warn time.Duration) time.Duration {
	if crl.NextUpdate.IsZero() || !crl.NextUpdate.After(crl.ThisUpdate) {
		return warn
	}
	if third := crl.NextUpdate.Sub(crl.ThisUpdate) / 3; third < warn {
		return third
	}
	return warn
}

// checkCRL checks that a CRL comes from a CA of the bundle, verifies, and
// is current.
func checkCRL(crl *x509.RevocationList, what string, cas []*x509.Certificate, now time.Time, warn time.Duration) []Finding {
	var out []Finding
	if f := checkCRLIssuer(crl, what, cas); f != nil {
		out = append(out, *f)
	}
	warn = crlWarnWindow(crl, warn)
	switch {
	case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
		out = append(out, errorf(CodeCRLExpired,
			"Publish a fresh CRL (trustgate certs crl; openssl ca -gencrl) and automate it well before nextUpdate.",
			"%s expired at its nextUpdate %s (%d days ago): Envoy then rejects every client certificate of that CA, revoked or not ('CRL has expired', envoyproxy/envoy#38198).",
			what, date(crl.NextUpdate), days(now.Sub(crl.NextUpdate))))
	case now.Before(crl.ThisUpdate):
		out = append(out, errorf(CodeCRLNotYetValid,
			"Check the clock of the CA that signed it; publish it again with thisUpdate in the past.",
			"%s is not valid before its thisUpdate %s: Envoy rejects every client certificate of that CA ('CRL is not yet valid').",
			what, date(crl.ThisUpdate)))
	case warn > 0 && !crl.NextUpdate.IsZero() && crl.NextUpdate.Sub(now) < warn:
		out = append(out, warnf(CodeCRLExpiringSoon,
			"Publish a fresh CRL before then (trustgate certs crl).",
			"%s reaches its nextUpdate on %s (in %d days): from then on Envoy rejects every client certificate of that CA.",
			what, date(crl.NextUpdate), days(crl.NextUpdate.Sub(now))))
	}
	return out
}

// checkCRLIssuer finds the CA that signed a CRL, by name then signature.
func checkCRLIssuer(crl *x509.RevocationList, what string, cas []*x509.Certificate) *Finding {
	var sigErr error
	named := false
	for _, c := range cas {
		if !bytes.Equal(c.RawSubject, crl.RawIssuer) {
			continue
		}
		named = true
		err := crl.CheckSignatureFrom(c)
		if err == nil {
			return nil
		}
		if sigErr == nil {
			sigErr = err
		}
	}
	var f Finding
	var usage x509.ConstraintViolationError
	switch {
	case !named:
		f = errorf(CodeCRLUnknownIssuer,
			"Use the CRLs published by the CAs of ca.crt (trustgate certs crl writes one per CA), or add this CRL's issuer to ca.crt.",
			"%s is not signed by any CA of %s: Envoy cannot verify it ('unable to get CRL issuer certificate'), so it revokes nothing, and the CAs of %s still need CRLs of their own.",
			what, fileCA, fileCA)
	case errors.As(sigErr, &usage):
		f = errorf(CodeCRLIssuerUsage,
			"Re-issue the CA with keyUsage keyCertSign and cRLSign (openssl: -addext 'keyUsage=critical,keyCertSign,cRLSign').",
			"%s is signed by a CA whose key usage does not include cRLSign (or that is not a CA): Envoy rejects it ('key usage does not include CRL signing') and with it every client certificate of that CA.",
			what)
	default:
		f = errorf(CodeCRLBadSignature,
			"Publish the CRL again with the CA that is in ca.crt (a CA re-created under the same name has a new key).",
			"%s names a CA of %s as issuer, but its signature does not verify with that CA's key (%v): Envoy fails every client certificate of that CA with 'CRL signature failure'.",
			what, fileCA, sigErr)
	}
	return &f
}

// checkCoverage reports the CAs that need a CRL and have none. Envoy sets
// X509_V_FLAG_CRL_CHECK|CRL_CHECK_ALL on the whole trust store once any CRL
// is configured, so every CA on a client's chain needs one, including the
// issuer of a CA whose own issuer is not in the bundle; with
// only_verify_leaf_cert_crl only the CA that issued the client certificate
// does.
func checkCoverage(certs []*x509.Certificate, covered map[string]bool, onlyLeaf bool) []Finding {
	var cas []*x509.Certificate
	for _, c := range certs {
		if isCA(c) {
			cas = append(cas, c)
		}
	}
	var missing []string
	seen := map[string]bool{}
	need := func(raw []byte, name string) {
		if !covered[string(raw)] && !seen[string(raw)] {
			seen[string(raw)] = true
			missing = append(missing, name)
		}
	}
	if onlyLeaf {
		for _, c := range bottomCAs(cas) {
			need(c.RawSubject, describe(c))
		}
	} else {
		for _, c := range cas {
			need(c.RawSubject, describe(c))
			if !selfSigned(c) && issuerIn(c, cas) < 0 {
				need(c.RawIssuer, printedName(c.RawIssuer, c.Issuer)+" (the issuer of "+describe(c)+", not in "+fileCA+")")
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := strings.Join(missing, "; ")
	if onlyLeaf {
		return []Finding{errorf(CodeCRLMissing,
			"Add the CRL of each CA that issues client certificates to ca.crl (trustgate certs crl writes one per CA).",
			"no CRL for %s: with crl.onlyVerifyLeaf (Envoy's only_verify_leaf_cert_crl) Envoy still needs the CRL of the CA that issued the client certificate, so it rejects every client certificate that CA issued ('unable to get certificate CRL'), revoked or not.",
			names)}
	}
	return []Finding{errorf(CodeCRLMissing,
		"Add a CRL for each of them to ca.crl (trustgate certs crl writes one per CA; openssl ca -gencrl), or, if only the CAs that issue client certificates publish CRLs, set crl.onlyVerifyLeaf: true in a ClientCertificatePolicy that targets this server.",
		"no CRL for %s: once any CRL is given, Envoy checks the CRL of every CA on a client's chain, so it rejects every client whose chain includes them ('unable to get certificate CRL'), revoked or not.",
		names)}
}
