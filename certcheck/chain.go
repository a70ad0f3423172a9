package certcheck

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// checkChain checks the order and completeness of a served chain: the leaf
// first, each certificate followed by its issuer, up to (optionally) the
// root. cas are extra certificates (the ca.crt of the same secret) that may
// hold the issuer of the top of the chain. Only the first broken link is
// reported: the rest follows from it.
func checkChain(certs, cas []*x509.Certificate, file string) []Finding {
	for i := 0; i+1 < len(certs); i++ {
		if signedBy(certs[i], certs[i+1]) {
			continue
		}
		return []Finding{brokenLink(certs, i, file)}
	}
	top := certs[len(certs)-1]
	if selfSigned(top) {
		return nil
	}
	if j := issuerIn(top, cas); j >= 0 {
		if selfSigned(cas[j]) {
			return nil // the root: clients have it, sending it is optional
		}
		return []Finding{warnf(CodeChainMissing, appendFix(file, describe(cas[j])),
			"%s ends with %s, whose issuer %s is an intermediate CA (found in ca.crt) missing from %s: clients that do not already have it fail with 'unable to get local issuer certificate' (Go: 'x509: certificate signed by unknown authority').",
			file, describe(top), describe(cas[j]), file)}
	}
	if len(certs) > 1 {
		return nil // ends with an intermediate; the root is the client's
	}
	issuer := printedName(top.RawIssuer, top.Issuer)
	return []Finding{warnf(CodeChainMissing, appendFix(file, issuer)+" Ignore this if "+issuer+" is a root CA that every client trusts.",
		"%s holds only the leaf, and its issuer %s is not in it: if %s is an intermediate CA, clients that do not already carry it fail with 'unable to get local issuer certificate' (Go: 'x509: certificate signed by unknown authority').",
		file, issuer, issuer)}
}

// brokenLink explains why certs[i+1] did not sign certs[i].
func brokenLink(certs []*x509.Certificate, i int, file string) Finding {
	next := where(file, i+1, certs[i+1])
	cur := where(file, i, certs[i])
	orderFix := fmt.Sprintf("Reorder %s: the leaf first, then each certificate's issuer in turn (cat leaf.crt intermediate.crt > %s); the root may be left out.", file, file)
	if signedBy(certs[i+1], certs[i]) {
		return warnf(CodeChainOrder, orderFix,
			"%s is in reverse order: %s is followed by %s, which it issued. TLS 1.2 requires the leaf first, then each certificate's issuer; most clients re-sort, strict ones fail with 'unable to get local issuer certificate'.",
			file, cur, next)
	}
	if j := issuerIn(certs[i], certs); j >= 0 {
		return warnf(CodeChainOrder, orderFix,
			"%s is out of order: %s is issued by %s, but followed by %s. TLS 1.2 requires each certificate to be followed by its issuer; most clients re-sort, strict ones fail with 'unable to get local issuer certificate'.",
			file, cur, where(file, j, certs[j]), next)
	}
	if selfSigned(certs[i]) {
		return warnf(CodeChainOrder, orderFix,
			"%s: %s is a self-signed root, yet %s follows it and belongs to no chain above the root.",
			file, cur, next)
	}
	return warnf(CodeChainMissing, appendFix(file, printedName(certs[i].RawIssuer, certs[i].Issuer)),
		"%s is incomplete: %s is issued by %s, which is not in the file (%s did not sign it). Clients that do not already have the missing intermediate fail with 'unable to get local issuer certificate'.",
		file, cur, printedName(certs[i].RawIssuer, certs[i].Issuer), next)
}

func appendFix(file, issuer string) string {
	return fmt.Sprintf("Append the intermediate CA %s to %s, right after the certificate it issued (cert-manager and 'trustgate certs issue' do this).", issuer, file)
}

// SummarizeChain describes the certificates of a PEM file on one line, e.g.
// "CN=api.example.com (expires 2026-03-01) <- CN=dev intermediate (expires
// 2035-01-01)"; it returns "no certificate" when there is none.
func SummarizeChain(pemData []byte) string {
	// A summary shows what parses; CheckServing explains what does not.
	b, _ := ParsePEMBundle(pemData, "")
	if len(b.Certs) == 0 {
		return "no certificate"
	}
	parts := make([]string, 0, len(b.Certs))
	for _, c := range b.Certs {
		s := fmt.Sprintf("%s (expires %s)", describe(c), c.NotAfter.UTC().Format("2006-01-02"))
		if isCA(c) && selfSigned(c) {
			s += " [root]"
		} else if isCA(c) {
			s += " [CA]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " <- ")
}

// Expiry returns the earliest NotAfter of the certificates of a PEM file:
// the moment the chain stops working. It fails when there is no
// certificate.
func Expiry(certPEM []byte) (time.Time, error) {
	b, findings := ParsePEMBundle(certPEM, "certificate")
	if len(b.Certs) == 0 {
		if len(findings) > 0 {
			return time.Time{}, fmt.Errorf("no certificate: %s", findings[0].Message)
		}
		return time.Time{}, errors.New("no certificate")
	}
	earliest := b.Certs[0].NotAfter
	for _, c := range b.Certs[1:] {
		if c.NotAfter.Before(earliest) {
			earliest = c.NotAfter
		}
	}
	return earliest, nil
}
