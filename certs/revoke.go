package certs

import (
	"fmt"
	"math/big"
	"path/filepath"
	"time"
)

// Revoke records the current certificate of a name as revoked at the given
// time (time.Now() if zero) and returns its serial number. Revoking twice
// keeps the first time. The revocation reaches ca.crl only at the next
// WriteCRLs, as in a real PKI where revocation and CRL publication are
// separate steps.
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

// WriteCRLs re-issues the CRL of every CA (root and intermediate each get
// their own, with the CRL number incremented) and refreshes ca.crl in every
// secret directory, including the CA-only one.
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
