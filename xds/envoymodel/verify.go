package envoymodel

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"time"
)

// verifyParams are the X509_STORE settings Envoy derives from a validation
// context (source/common/tls/cert_validator/default_validator.cc,
// DefaultCertValidator::initializeSslContexts and addClientValidationContext).
type verifyParams struct {
	// anchors is the trusted_ca bundle. X509_V_FLAG_PARTIAL_CHAIN is set,
	// so any certificate in it, an intermediate too, is a trust anchor.
	anchors []*x509.Certificate
	crls    []*x509.RevocationList
	// crlCheck is X509_V_FLAG_CRL_CHECK (set once any CRL is configured);
	// crlAll adds X509_V_FLAG_CRL_CHECK_ALL (unless
	// only_verify_leaf_cert_crl).
	crlCheck, crlAll bool
	// depth is BoringSSL's verify depth: the number of intermediates
	// allowed between the leaf and the trust anchor.
	depth        int
	allowExpired bool
	now          time.Time
	purpose      x509.ExtKeyUsage
	// sigs memoizes signature checks (nil: none).
	sigs *sigMemo
}

// verifyError is an X509_verify_cert failure: OpenSSL's error string and
// the depth it was found at.
type verifyError struct {
	depth int
	msg   string
	alert string // the TLS alert the client sees
}

func (e *verifyError) Error() string {
	return fmt.Sprintf("X509_verify_cert: certificate verification error at depth %d: %s", e.depth, e.msg)
}

// BoringSSL error strings (X509_verify_cert_error_string) and the alerts
// SSL_alert_from_verify_result maps them to.
const (
	errUnableToGetIssuer = "unable to get local issuer certificate"
	errSelfSigned        = "self signed certificate"
	errSelfSignedInChain = "self signed certificate in certificate chain"
	errInvalidCA         = "invalid CA certificate"
	errPurpose           = "unsupported certificate purpose"
	errPathLength        = "path length constraint exceeded"
	errChainTooLong      = "certificate chain too long"
	errNoCRL             = "unable to get certificate CRL"
	errCRLIssuer         = "unable to get CRL issuer certificate"
	errCRLSignature      = "CRL signature failure"
	errCRLNotYetValid    = "CRL is not yet valid"
	errCRLExpired        = "CRL has expired"
	errRevoked           = "certificate revoked"
	errNotYetValid       = "certificate is not yet valid"
	errExpired           = "certificate has expired"
	errSignature         = "certificate signature failure"
)

// alertFor is SSL_alert_from_verify_result (BoringSSL ssl/ssl_x509.cc).
func alertFor(msg string) string {
	switch msg {
	case errExpired, errCRLExpired:
		return "certificate expired"
	case errNotYetValid, errCRLNotYetValid, errSignature, errCRLSignature:
		return "bad certificate"
	case errRevoked:
		return "certificate revoked"
	case errUnableToGetIssuer, errSelfSigned, errSelfSignedInChain, errNoCRL, errCRLIssuer:
		return "unknown ca"
	case errPurpose:
		return "unsupported certificate"
	}
	return "certificate unknown"
}

// fail makes a verifyError.
func fail(depth int, msg string) *verifyError {
	return &verifyError{depth: depth, msg: msg, alert: alertFor(msg)}
}

// verifyChain builds and checks a path from the client's chain (leaf first)
// to a trust anchor, in X509_verify_cert's order: build the chain, check
// CA flags, purposes and path lengths (check_chain_extensions), the depth,
// revocation (check_revocation), then signatures and validity times
// (internal_verify). It returns the verified chain, leaf first.
func verifyChain(presented []*x509.Certificate, p verifyParams) ([]*x509.Certificate, *verifyError) {
	chain, err := buildChain(presented, p)
	if err != nil {
		return nil, err
	}
	if err := checkExtensions(chain, p.purpose); err != nil {
		return nil, err
	}
	if intermediates := len(chain) - 2; intermediates > p.depth {
		return nil, fail(len(chain)-1, errChainTooLong)
	}
	if err := checkRevocation(chain, p); err != nil {
		return nil, err
	}
	if !p.allowExpired {
		for i := len(chain) - 1; i >= 0; i-- {
			switch c := chain[i]; {
			case p.now.Before(c.NotBefore):
				return nil, fail(i, errNotYetValid)
			case p.now.After(c.NotAfter):
				return nil, fail(i, errExpired)
			}
		}
	}
	return chain, nil
}

// buildChain finds a path to a trust anchor as BoringSSL's X509_verify_cert
// does: issuers are looked up in the trust store first (trusted-first),
// then among the certificates the client sent, up to a self-signed
// certificate; a path that cannot go on is accepted when its last
// certificate is in the trust store (X509_V_FLAG_PARTIAL_CHAIN, which Envoy
// sets). So with a bundle of intermediate and root, the path runs leaf,
// intermediate, root.
func buildChain(presented []*x509.Certificate, p verifyParams) ([]*x509.Certificate, *verifyError) {
	chain := []*x509.Certificate{presented[0]}
	untrusted := presented[1:]
	for len(chain) <= 102 {
		cur := chain[len(chain)-1]
		if isSelfSigned(cur, p.sigs) {
			if isAnchor(cur, p.anchors) {
				return chain, nil
			}
			if len(chain) == 1 {
				return nil, fail(0, errSelfSigned)
			}
			return nil, fail(len(chain)-1, errSelfSignedInChain)
		}
		iss := findIssuer(cur, p.anchors, p.sigs)
		if iss == nil {
			iss = findIssuer(cur, untrusted, p.sigs)
		}
		if iss == nil || inChain(iss, chain) {
			if isAnchor(cur, p.anchors) {
				return chain, nil // partial chain
			}
			return nil, fail(len(chain)-1, errUnableToGetIssuer)
		}
		chain = append(chain, iss)
	}
	return nil, fail(len(chain)-1, errChainTooLong)
}

// isAnchor reports whether c is in the trust store.
func isAnchor(c *x509.Certificate, anchors []*x509.Certificate) bool {
	for _, a := range anchors {
		if bytes.Equal(a.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// inChain reports whether c is already on the path (a loop).
func inChain(c *x509.Certificate, chain []*x509.Certificate) bool { return isAnchor(c, chain) }

// findIssuer is the first candidate whose subject is c's issuer and whose
// key signed c.
func findIssuer(c *x509.Certificate, candidates []*x509.Certificate, sigs *sigMemo) *x509.Certificate {
	for _, cand := range candidates {
		if bytes.Equal(cand.RawSubject, c.RawIssuer) && sigs.signedBy(c, cand) {
			return cand
		}
	}
	return nil
}

// isSelfSigned reports whether c is self-issued and self-signed.
func isSelfSigned(c *x509.Certificate, sigs *sigMemo) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && sigs.selfSigned(c)
}

// checkExtensions is check_chain_extensions: every certificate above the
// leaf must be a CA, every certificate's extended key usage (when present)
// must allow the purpose, and path length constraints hold.
func checkExtensions(chain []*x509.Certificate, purpose x509.ExtKeyUsage) *verifyError {
	for i, c := range chain {
		if i > 0 && (!c.BasicConstraintsValid || !c.IsCA) {
			return fail(i, errInvalidCA)
		}
		if len(c.ExtKeyUsage) > 0 && !allowsPurpose(c.ExtKeyUsage, purpose) {
			return fail(i, errPurpose)
		}
		// Path length: the number of non-self-issued intermediates below
		// a CA may not exceed its pathlen.
		if i > 1 && c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) && i-1 > c.MaxPathLen {
			return fail(i, errPathLength)
		}
	}
	return nil
}

// allowsPurpose reports whether an EKU list allows the purpose.
func allowsPurpose(ekus []x509.ExtKeyUsage, purpose x509.ExtKeyUsage) bool {
	for _, e := range ekus {
		if e == purpose || e == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// checkRevocation is check_revocation: the leaf, or with CRL_CHECK_ALL
// every certificate of the chain including the anchor, needs a CRL from
// its issuer that is current, correctly signed and does not list it.
func checkRevocation(chain []*x509.Certificate, p verifyParams) *verifyError {
	if !p.crlCheck {
		return nil
	}
	last := 0
	if p.crlAll {
		last = len(chain) - 1
	}
	for i := 0; i <= last; i++ {
		issuer := chain[i]
		if i+1 < len(chain) {
			issuer = chain[i+1]
		} else if !isSelfSigned(chain[i], p.sigs) {
			// A partial chain ends in a trusted intermediate whose issuer
			// is not in the store: its CRL cannot be checked.
			issuer = nil
		}
		if err := checkCert(chain[i], issuer, i, p); err != nil {
			return err
		}
	}
	return nil
}

// checkCert checks one certificate against its issuer's CRL.
func checkCert(c, issuer *x509.Certificate, depth int, p verifyParams) *verifyError {
	crl := pickCRL(c, p)
	switch {
	case crl == nil:
		return fail(depth, errNoCRL)
	case issuer == nil:
		return fail(depth, errCRLIssuer)
	case !p.sigs.crlSignedBy(crl, issuer):
		return fail(depth, errCRLSignature)
	case p.now.Before(crl.ThisUpdate):
		return fail(depth, errCRLNotYetValid)
	case !crl.NextUpdate.IsZero() && p.now.After(crl.NextUpdate):
		return fail(depth, errCRLExpired)
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return fail(depth, errRevoked)
		}
	}
	return nil
}

// pickCRL is the CRL get_crl would pick for c: one from c's issuer, a
// current one before an expired or future one.
func pickCRL(c *x509.Certificate, p verifyParams) *x509.RevocationList {
	var first *x509.RevocationList
	for _, l := range p.crls {
		if !bytes.Equal(l.RawIssuer, c.RawIssuer) {
			continue
		}
		if !p.now.Before(l.ThisUpdate) && (l.NextUpdate.IsZero() || !p.now.After(l.NextUpdate)) {
			return l
		}
		if first == nil {
			first = l
		}
	}
	return first
}
