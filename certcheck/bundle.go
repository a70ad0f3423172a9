package certcheck

import (
	"crypto/x509"
	"time"
)

// checkBundle parses a CA bundle and checks each entry: a CA certificate,
// valid now, with a strong key and signature. clientCA selects the
// consequences quoted for a non-CA entry.
func checkBundle(data []byte, now time.Time, warn time.Duration, clientCA bool) (*Bundle, []Finding) {
	b, out := ParsePEMBundle(data, fileCA)
	if len(b.Certs) == 0 {
		if len(out) > 0 {
			return b, out // the parse findings say why
		}
		return b, append(out, errorf(CodeCAEmpty,
			"Put the PEM certificates of the CA(s) that issue the peer certificates in ca.crt.",
			"%s holds no certificate: Envoy rejects the validation context ('Failed to load trusted CA certificates').", fileCA))
	}
	if b.KeyBlocks > 0 {
		out = append(out, warnf(CodeKeyExposed,
			"Remove the private key from ca.crt and, if it is the CA's key, treat the CA as compromised: re-create it.",
			"%s holds a private key: a CA bundle is distributed widely, and with a CA's key anyone can mint trusted certificates.", fileCA))
	}
	for i, c := range b.Certs {
		what := where(fileCA, i, c)
		if !isCA(c) {
			out = append(out, notCA(what, clientCA))
		}
		out = append(out, checkValidity(c, what, now, warn)...)
		out = append(out, checkStrength(c, what)...)
	}
	return b, out
}

func notCA(what string, clientCA bool) Finding {
	if clientCA {
		return errorf(CodeNotCA,
			"Put the CA that issued the client certificates in ca.crt, not a client or server certificate. To admit one exact client, keep its CA here and pin it with verifyCertificateSpki or verifyCertificateHash.",
			"%s is not a CA certificate (basicConstraints CA:FALSE or absent): it cannot have issued client certificates, so clients chaining to it fail with 'unable to get local issuer certificate' or 'invalid CA certificate'.",
			what)
	}
	return warnf(CodeNotCA,
		"Trust the CA that issued the backend's certificate instead, so that renewals keep working.",
		"%s is not a CA certificate (basicConstraints CA:FALSE or absent): it can anchor at best itself, so validation works only while the backend serves exactly this certificate, and breaks at its renewal ('unable to get local issuer certificate').",
		what)
}

// CheckUpstreamCA diagnoses the CA bundle used to validate a backend's
// certificate (DestinationRule tls.caCertificates / credentialName ca.crt).
func CheckUpstreamCA(caPEM []byte, now time.Time, expiryWarning time.Duration) []Finding {
	_, out := checkBundle(caPEM, now, expiryWarning, false)
	return out
}

// bottomCAs returns the CAs of a bundle that issued no other CA of it: the
// ones that issue the leaves.
func bottomCAs(cas []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range cas {
		issuesCA := false
		for _, other := range cas {
			if other != c && isCA(other) && signedBy(other, c) {
				issuesCA = true
				break
			}
		}
		if !issuesCA {
			out = append(out, c)
		}
	}
	return out
}
