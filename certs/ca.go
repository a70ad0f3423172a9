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

// organization marks the CAs of this PKI as development ones, unless their
// subject names an organization of its own.
const organization = "trustgate development PKI"

// InitOptions configure Init; the zero value is a root CA only, without a
// CRL.
type InitOptions struct {
	// CommonName is the root CA's common name; DefaultCommonName if empty
	// (and Subject.DN does not name one).
	CommonName string
	// Subject adds O, OU, L, ST and C to the CAs' subjects, or is the whole
	// root subject (Subject.DN). Without O, the CAs get
	// O=trustgate development PKI.
	Subject      Subject
	Intermediate bool // also create an intermediate CA signed by the root
	Days         int  // CA validity; DefaultCADays if 0
	// CRL publishes a first CRL for each CA now. Without it, no CRL exists
	// until something is revoked or WriteCRLs is called: a CRL expires at
	// its nextUpdate, and Envoy then rejects every client of that CA.
	CRL          bool
	CRLDays      int // nextUpdate of the CRLs, in days from publication; DefaultCRLDays if 0
	Key          KeyType
	CASecretName string    // CA-only secret directory; DefaultCASecretName if empty
	Now          time.Time // time.Now() if zero
}

// Init creates a PKI in dir: a root CA, optionally an intermediate CA, and
// the CA-only secret directory (ca.crt; with opts.CRL also a first CRL for
// each CA, and ca.crl).
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
	rootName, err := caName(opts)
	if err != nil {
		return err
	}
	st := &state{Version: stateVersion, CASecretName: opts.CASecretName, CRLDays: opts.CRLDays}
	root, err := newCA(dir, st, caSpec{name: CARoot, subject: rootName}, opts)
	if err != nil {
		return err
	}
	cas := []*ca{root}
	if opts.Intermediate {
		interName := withCommonName(rootName, commonName(rootName)+" intermediate")
		inter, err := newCA(dir, st, caSpec{name: CAIntermediate, subject: interName, parent: root}, opts)
		if err != nil {
			return err
		}
		cas = append(cas, inter)
	}
	if opts.CRL {
		if err := publishCRLs(dir, st, cas, opts.Now, opts.CRLDays); err != nil {
			return err
		}
	}
	if err := writeCASecret(dir, st, cas); err != nil {
		return err
	}
	return st.save(dir)
}

// caName is the root CA's subject: the common name (default
// DefaultCommonName) with opts.Subject, or opts.Subject.DN; a CA without O
// is marked as a development one.
func caName(opts InitOptions) (pkix.Name, error) {
	cn, subject := opts.CommonName, opts.Subject
	if cn == "" && subject.DN == "" {
		cn = DefaultCommonName
	}
	if subject.DN == "" && len(subject.Organization) == 0 {
		subject.Organization = []string{organization}
	}
	n, err := subject.name(cn)
	if err != nil {
		return pkix.Name{}, fmt.Errorf("CA subject: %w", err)
	}
	if commonName(n) == "" {
		return pkix.Name{}, errors.New("CA subject: the DN needs a CN")
	}
	return n, nil
}

func initDefaults(opts InitOptions) InitOptions {
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

// caSpec names a CA to make: its name in the state directory, its subject,
// and the CA that signs it (nil: self-signed).
type caSpec struct {
	name    string
	subject pkix.Name
	parent  *ca
}

// newCA makes a CA key and certificate, self-signed when spec.parent is nil,
// and writes both to the state directory.
func newCA(dir string, st *state, spec caSpec, opts InitOptions) (*ca, error) {
	name, subject, parent := spec.name, spec.subject, spec.parent
	key, err := generateKey(opts.Key)
	if err != nil {
		return nil, err
	}
	serial, err := st.newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
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
// first, and every CRL if there are any. Envoy needs a CRL for each CA of a
// chain once it has one for any, so the CRLs always travel together.
func writeCASecret(dir string, st *state, cas []*ca) error {
	var caPEM, crlPEM []byte
	for i := len(cas) - 1; i >= 0; i-- {
		caPEM = append(caPEM, cas[i].certPEM...)
		crlPEM = append(crlPEM, cas[i].crlPEM...)
	}
	return writeCAFiles(filepath.Join(dir, st.CASecretName), caPEM, crlPEM)
}

// writeCAFiles writes ca.crt of a secret directory, and ca.crl when the PKI
// publishes CRLs (crlPEM is empty otherwise).
func writeCAFiles(secretDir string, caPEM, crlPEM []byte) error {
	if err := writeFile(filepath.Join(secretDir, FileCA), caPEM, 0o644); err != nil {
		return err
	}
	if len(crlPEM) == 0 {
		return nil
	}
	return writeFile(filepath.Join(secretDir, FileCRL), crlPEM, 0o644)
}

// CAs returns the subjects of the PKI's CAs as Envoy prints them
// (%DOWNSTREAM_PEER_ISSUER% of the certificates they issue), root first.
func CAs(dir string) ([]string, error) {
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(st.CAs))
	for _, rec := range st.CAs {
		c, _, err := readCACert(dir, rec)
		if err != nil {
			return nil, err
		}
		s, err := PrintedSubject(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", statePath(dir, rec.Name+".crt"), err)
		}
		out = append(out, s)
	}
	return out, nil
}
