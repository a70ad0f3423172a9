package certs

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// DefaultCommonName is the root CA's common name unless InitOptions says
// otherwise.
const DefaultCommonName = "trustgate dev CA"

// Default validity periods, in days.
const (
	DefaultCADays   = 3650
	DefaultLeafDays = 365
	DefaultCRLDays  = 30
)

// clockSkew backdates NotBefore (and CRL thisUpdate) so that a peer whose
// clock is a little behind does not see a brand-new certificate as "not yet
// valid".
const clockSkew = 5 * time.Minute

// organization marks every certificate of this PKI as a development one.
const organization = "trustgate development PKI"

// InitOptions configure Init; the zero value is a root CA only.
type InitOptions struct {
	CommonName   string // root CA common name; DefaultCommonName if empty
	Intermediate bool   // also create an intermediate CA signed by the root
	Days         int    // CA validity; DefaultCADays if 0
	CRLDays      int    // default nextUpdate of the CRLs; DefaultCRLDays if 0
	Key          KeyType
	CASecretName string    // CA-only secret directory; DefaultCASecretName if empty
	Now          time.Time // time.Now() if zero
}

// Init creates a PKI in dir: a root CA, optionally an intermediate CA, a
// first CRL for each, and the CA-only secret directory (ca.crt, ca.crl).
func Init(dir string, opts InitOptions) error {
	opts = initDefaults(opts)
	if err := validName(opts.CASecretName); err != nil {
		return fmt.Errorf("CA secret %w", err)
	}
	if _, err := os.Stat(statePath(dir, stateFile)); err == nil {
		return fmt.Errorf("%s: a PKI exists already (remove %s to start over): %w", dir, filepath.Join(dir, StateDir), ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	st := &state{Version: 1, NextSerial: 1, CASecretName: opts.CASecretName, CRLDays: opts.CRLDays}
	root, err := newCA(dir, st, CARoot, opts.CommonName, nil, opts)
	if err != nil {
		return err
	}
	cas := []*ca{root}
	if opts.Intermediate {
		inter, err := newCA(dir, st, CAIntermediate, opts.CommonName+" intermediate", root, opts)
		if err != nil {
			return err
		}
		cas = append(cas, inter)
	}
	if err := publishCRLs(dir, st, cas, opts.Now, opts.CRLDays); err != nil {
		return err
	}
	if err := writeCASecret(dir, st, cas); err != nil {
		return err
	}
	return st.save(dir)
}

func initDefaults(opts InitOptions) InitOptions {
	if opts.CommonName == "" {
		opts.CommonName = DefaultCommonName
	}
	if opts.Days == 0 {
		opts.Days = DefaultCADays
	}
	if opts.CRLDays == 0 {
		opts.CRLDays = DefaultCRLDays
	}
	if opts.CASecretName == "" {
		opts.CASecretName = DefaultCASecretName
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC().Truncate(time.Second)
	return opts
}

// newCA makes a CA key and certificate, self-signed when parent is nil, and
// writes both to the state directory.
func newCA(dir string, st *state, name, cn string, parent *ca, opts InitOptions) (*ca, error) {
	key, err := generateKey(opts.Key)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          st.nextSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{organization}},
		NotBefore:             opts.Now.Add(-clockSkew),
		NotAfter:              opts.Now.AddDate(0, 0, opts.Days),
		IsCA:                  true,
		BasicConstraintsValid: true,
		// cRLSign is required: Envoy (BoringSSL) rejects a CRL whose issuer
		// lacks it, and with it every client of that CA.
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	signerCert, signerKey := tmpl, key
	if parent == nil {
		tmpl.MaxPathLen = 1 // root -> intermediate -> leaf
	} else {
		tmpl.MaxPathLenZero = true // an intermediate signs leaves only
		signerCert, signerKey = parent.cert, parent.key
	}
	cert, certPEM, keyPEM, err := sign(tmpl, signerCert, key, signerKey)
	if err != nil {
		return nil, fmt.Errorf("create %s CA: %w", name, err)
	}
	if err := writeFile(statePath(dir, name+".key"), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(statePath(dir, name+".crt"), certPEM, 0o644); err != nil {
		return nil, err
	}
	rec := &caRecord{Name: name, Serial: tmpl.SerialNumber.String()}
	st.CAs = append(st.CAs, rec)
	return &ca{rec: rec, cert: cert, certPEM: certPEM, key: key}, nil
}

// publishCRLs signs a new CRL for every CA (CRL number + 1) listing the
// revoked certificates it issued, and stores it in the state directory.
func publishCRLs(dir string, st *state, cas []*ca, now time.Time, days int) error {
	for _, c := range cas {
		var entries []x509.RevocationListEntry
		for _, r := range st.Certs {
			if r.Issuer != c.rec.Name || r.Revoked == nil {
				continue
			}
			serial, ok := new(big.Int).SetString(r.Serial, 10)
			if !ok {
				return fmt.Errorf("state: certificate %q has a bad serial %q", r.Name, r.Serial)
			}
			entries = append(entries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: *r.Revoked})
		}
		c.rec.CRLNumber++
		tmpl := &x509.RevocationList{
			Number:                    big.NewInt(c.rec.CRLNumber),
			ThisUpdate:                now.Add(-clockSkew),
			NextUpdate:                now.AddDate(0, 0, days),
			RevokedCertificateEntries: entries,
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, c.cert, c.key)
		if err != nil {
			return fmt.Errorf("CRL of the %s CA: %w", c.rec.Name, err)
		}
		c.crlPEM = encodeCRL(der)
		if err := writeFile(statePath(dir, c.rec.Name+".crl"), c.crlPEM, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeCASecret writes the CA-only secret directory: every CA, issuing CA
// first, and every CRL. Envoy needs a CRL for each CA of a chain once it has
// one for any, so the two always travel together.
func writeCASecret(dir string, st *state, cas []*ca) error {
	var caPEM, crlPEM []byte
	for i := len(cas) - 1; i >= 0; i-- {
		caPEM = append(caPEM, cas[i].certPEM...)
		crlPEM = append(crlPEM, cas[i].crlPEM...)
	}
	return writeCAFiles(filepath.Join(dir, st.CASecretName), caPEM, crlPEM)
}

// writeCAFiles writes ca.crt and ca.crl of a secret directory.
func writeCAFiles(secretDir string, caPEM, crlPEM []byte) error {
	if err := writeFile(filepath.Join(secretDir, FileCA), caPEM, 0o644); err != nil {
		return err
	}
	return writeFile(filepath.Join(secretDir, FileCRL), crlPEM, 0o644)
}
