package certs

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/trustgate/trustgate/internal/pembundle"
)

// Revoke records the current certificate of a name as revoked at the given
// time (time.Now() if zero) and returns its serial number. Revoking twice
// keeps the first time. The revocation reaches ca.crl only at the next
// WriteCRLs, as in a real PKI where revocation and CRL publication are
// separate steps (`trustgate certs revoke` does both).
func Revoke(dir, name string, at time.Time) (*big.Int, error) {
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	r := st.current(name)
	if r == nil {
		return nil, fmt.Errorf("certificate %q: %w", name, ErrNotFound)
	}
	serial, ok := new(big.Int).SetString(r.Serial, 10)
	if !ok {
		return nil, fmt.Errorf("state: certificate %q has a bad serial %q", r.Name, r.Serial)
	}
	if r.Revoked != nil {
		return serial, nil
	}
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Second)
	r.Revoked = &at
	return serial, st.save(dir)
}

// CRLOptions configure WriteCRLs.
type CRLOptions struct {
	// Days until nextUpdate; the PKI's default (InitOptions.CRLDays) if 0.
	// Envoy rejects every client once a CRL is past its nextUpdate, so
	// publish again well before.
	Days int
	Now  time.Time // time.Now() if zero
}

// WriteCRLs issues a fresh CRL for every CA (root and intermediate each get
// their own, with the CRL number incremented) and writes ca.crl into every
// secret directory, including the CA-only one. On a PKI without CRLs it
// starts publishing them: from then on every ca.crl must be renewed before
// its nextUpdate.
func WriteCRLs(dir string, opts CRLOptions) error {
	st, err := loadState(dir)
	if err != nil {
		return err
	}
	if opts.Days < 0 {
		return fmt.Errorf("CRL days %d: must be positive", opts.Days)
	}
	if opts.Days == 0 {
		opts.Days = st.CRLDays
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC().Truncate(time.Second)
	cas, err := loadCAs(dir, st)
	if err != nil {
		return err
	}
	if err := publishCRLs(dir, st, cas, opts.Now, opts.Days); err != nil {
		return err
	}
	for _, r := range st.Certs {
		if r.Superseded {
			continue
		}
		caPEM, crlPEM := bundles(chainOf(cas, r.Issuer))
		if err := writeCAFiles(filepath.Join(dir, r.Name), caPEM, crlPEM); err != nil {
			return err
		}
	}
	if err := writeCASecret(dir, st, cas); err != nil {
		return err
	}
	return st.save(dir)
}

// CRLInfo describes the current CRL of one CA.
type CRLInfo struct {
	CA         string // CARoot or CAIntermediate
	Issuer     string // the CA's subject
	Number     int64
	ThisUpdate time.Time
	// NextUpdate is when the CRL expires: from then on Envoy rejects every
	// client certificate of the CA, revoked or not, until a fresh CRL is
	// published (WriteCRLs, `trustgate certs crl`).
	NextUpdate time.Time
	Revoked    int // certificates listed
}

// CRLs describes the CRLs the PKI in dir publishes, root first; it returns
// none while the PKI publishes no CRL.
func CRLs(dir string) ([]CRLInfo, error) {
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	var out []CRLInfo
	for _, rec := range st.CAs {
		if rec.CRLNumber == 0 {
			continue
		}
		path := statePath(dir, rec.Name+".crl")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		crls, err := pembundle.CRLs(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(crls) == 0 {
			return nil, fmt.Errorf("%s: no X509 CRL block", path)
		}
		crl := crls[0]
		out = append(out, CRLInfo{
			CA: rec.Name, Issuer: crl.Issuer.String(), Number: rec.CRLNumber,
			ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate, Revoked: len(crl.RevokedCertificateEntries),
		})
	}
	return out, nil
}
