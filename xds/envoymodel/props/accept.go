package props

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/trustgate/trustgate/model"
)

// Accepts reports whether a client chain (leaf first) passes the server's
// validation as its configuration documents it, and why not. It uses Go's
// crypto/x509 path building, then the CRLs (every certificate of the chain
// against its issuer's CRL, or the leaf only with crl.onlyVerifyLeaf), the
// depth (verifyDepth is nginx's ssl_verify_depth: at most that many
// intermediates), the SAN matchers and the pins.
func (v *Validation) Accepts(chain []*x509.Certificate, now time.Time) (bool, string) {
	if len(chain) == 0 {
		return false, "no certificate"
	}
	h := sha256.New()
	for _, c := range chain {
		h.Write(c.Raw)
	}
	key := fmt.Sprintf("%x|%d", h.Sum(nil), now.UnixNano())
	if r, ok := v.memo.Load(key); ok {
		a := r.(acceptance)
		return a.ok, a.why
	}
	ok, why := v.accepts(chain, now)
	v.memo.Store(key, acceptance{ok, why})
	return ok, why
}

// acceptance is a remembered verdict of Accepts.
type acceptance struct {
	ok  bool
	why string
}

// accepts is Accepts without the memo.
func (v *Validation) accepts(chain []*x509.Certificate, now time.Time) (bool, string) {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range v.Roots {
		roots.AddCert(r)
	}
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	paths, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return false, "chain: " + chainError(err)
	}
	path := v.complete(paths[0])
	if len(v.CRLs) > 0 {
		if why := v.revoked(path, now); why != "" {
			return false, why
		}
	}
	if v.Depth != nil && len(path)-2 > int(*v.Depth) {
		return false, fmt.Sprintf("chain has %d intermediates, verifyDepth %d", len(path)-2, *v.Depth)
	}
	if len(v.SANs)+len(v.IstioSANs) > 0 && !v.sanMatches(chain[0]) {
		return false, "no SAN matches"
	}
	if len(v.SPKI)+len(v.Hash) > 0 && !pinned(chain[0], v.SPKI, v.Hash) {
		return false, "not pinned"
	}
	return true, ""
}

// complete extends a verified path up to a self-signed root from the CA
// bundle: Go stops at the first certificate it finds among the roots (an
// intermediate, when the bundle holds intermediate and root), while the
// CRL and depth rules are about the whole chain.
func (v *Validation) complete(path []*x509.Certificate) []*x509.Certificate {
	for len(path) < 16 {
		top := path[len(path)-1]
		if bytes.Equal(top.RawSubject, top.RawIssuer) && top.CheckSignatureFrom(top) == nil {
			return path
		}
		var next *x509.Certificate
		for _, r := range v.Roots {
			if bytes.Equal(r.RawSubject, top.RawIssuer) && top.CheckSignatureFrom(r) == nil {
				next = r
				break
			}
		}
		if next == nil {
			return path
		}
		path = append(path, next)
	}
	return path
}

// chainError names a chain failure without its time stamps.
func chainError(err error) string {
	var inv x509.CertificateInvalidError
	var unk x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv):
		return map[x509.InvalidReason]string{
			x509.Expired: "expired or not yet valid", x509.NotAuthorizedToSign: "issuer not a CA",
			x509.IncompatibleUsage: "not for client authentication", x509.TooManyIntermediates: "too many intermediates",
		}[inv.Reason] + " (" + inv.Cert.Subject.String() + ")"
	case errors.As(err, &unk):
		return "signed by an unknown authority"
	}
	return err.Error()
}

// revoked checks the path against the CRLs: each checked certificate needs
// a current CRL from its issuer that does not list it.
func (v *Validation) revoked(path []*x509.Certificate, now time.Time) string {
	last := len(path) - 1
	if v.OnlyLeaf {
		last = 0
	}
	for i := 0; i <= last; i++ {
		c, issuer := path[i], path[min(i+1, len(path)-1)]
		var crl *x509.RevocationList
		for _, l := range v.CRLs {
			if bytes.Equal(l.RawIssuer, c.RawIssuer) && l.CheckSignatureFrom(issuer) == nil {
				crl = l
				break
			}
		}
		switch {
		case crl == nil:
			return fmt.Sprintf("no CRL from the issuer of %s", c.Subject)
		case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
			return fmt.Sprintf("the CRL of %s's issuer has expired", c.Subject)
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				return fmt.Sprintf("%s is revoked", c.Subject)
			}
		}
	}
	return ""
}

// sanMatches reports whether some configured SAN matcher matches the leaf
// (ClientCertificatePolicy subjectAltNames: a SAN of the given type, by
// exact, prefix, suffix or regex; Gateway subjectAltNames: equality with
// any SAN).
func (v *Validation) sanMatches(c *x509.Certificate) bool {
	sans := certSANs(c)
	for _, m := range v.SANs {
		for _, s := range sans[strings.ToUpper(m.Type)] {
			if certMatch(m.CertMatch, s) {
				return true
			}
		}
	}
	for _, want := range v.IstioSANs {
		for _, list := range sans {
			for _, s := range list {
				if s == want {
					return true
				}
			}
		}
	}
	return false
}

// certSANs lists a certificate's SANs by type.
func certSANs(c *x509.Certificate) map[string][]string {
	out := map[string][]string{"DNS": c.DNSNames, "EMAIL": c.EmailAddresses}
	for _, u := range c.URIs {
		out["URI"] = append(out["URI"], u.String())
	}
	for _, ip := range c.IPAddresses {
		out["IP"] = append(out["IP"], ip.String())
	}
	return out
}

// certMatch is a ClientCertificatePolicy string match: exact, prefix,
// suffix, or a regex matching the whole value.
func certMatch(m model.CertMatch, s string) bool {
	switch {
	case m.Exact != "":
		return s == m.Exact
	case m.Prefix != "":
		return strings.HasPrefix(s, m.Prefix)
	case m.Suffix != "":
		return strings.HasSuffix(s, m.Suffix)
	case m.Regex != "":
		re, err := regexp.Compile(`^(?:` + m.Regex + `)$`)
		return err == nil && re.MatchString(s)
	}
	return false
}

// pinned reports whether the leaf's SPKI or certificate hash is listed.
func pinned(c *x509.Certificate, spki, hash []string) bool {
	s := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	for _, p := range spki {
		if p == base64.StdEncoding.EncodeToString(s[:]) {
			return true
		}
	}
	h := sha256.Sum256(c.Raw)
	for _, p := range hash {
		if strings.EqualFold(strings.ReplaceAll(p, ":", ""), hex.EncodeToString(h[:])) {
			return true
		}
	}
	return false
}
