package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// StateDir is the directory, under a PKI directory, that holds the CA keys
// and the index.
const StateDir = ".pki"

// DefaultCASecretName names the CA-only secret directory (ca.crt and ca.crl)
// meant for client-certificate validation.
const DefaultCASecretName = "client-ca"

// Names of the CAs in a PKI.
const (
	CARoot         = "root"
	CAIntermediate = "intermediate"
)

// Names of the files in a secret directory, as in a cert-manager Secret.
const (
	FileCert = "tls.crt"
	FileKey  = "tls.key"
	FileCA   = "ca.crt"
	FileCRL  = "ca.crl"
)

const stateFile = "state.json"

// ErrExists is returned by Init when the directory already holds a PKI, and by
// Issue when the name is taken and Replace is not set.
var ErrExists = errors.New("already exists")

// ErrNotFound is returned when the directory holds no PKI, or a name or CA is
// unknown.
var ErrNotFound = errors.New("not found")

// stateVersion is written to the index. Version 1 (a serial counter, a CRL
// from init) is read as well; a binary that knows only version 1 refuses
// version 2 instead of handing out serial 0.
const stateVersion = 2

// state is the JSON index of a PKI directory.
type state struct {
	Version      int         `json:"version"`
	CASecretName string      `json:"caSecretName"`
	CRLDays      int         `json:"crlDays"`
	CAs          []*caRecord `json:"cas"` // root first
	Certs        []*record   `json:"certs"`
}

// caRecord is one CA of the PKI; its certificate, key and CRL are PEM files
// named after it in the state directory.
type caRecord struct {
	Name   string `json:"name"`
	Serial string `json:"serial"`
	// CRLNumber is the number of the CA's last CRL; 0 while none was
	// published.
	CRLNumber int64 `json:"crlNumber"`
}

// record is one issued leaf certificate.
type record struct {
	Name     string    `json:"name"`
	Kind     Kind      `json:"kind"`
	Issuer   string    `json:"issuer"`
	Serial   string    `json:"serial"` // decimal
	NotAfter time.Time `json:"notAfter"`
	// Revoked is when the certificate was revoked; nil while it is valid.
	Revoked *time.Time `json:"revoked,omitempty"`
	// Superseded is set when a later certificate took over the name.
	Superseded bool `json:"superseded,omitempty"`
}

// ca is a loaded CA: its certificate, key and current CRL.
type ca struct {
	rec     *caRecord
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
	crlPEM  []byte
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// validName checks that a secret name is a Kubernetes DNS subdomain, which
// also makes it a safe single path element.
func validName(name string) error {
	if len(name) > 253 || !nameRE.MatchString(name) {
		return fmt.Errorf("name %q: must be a lowercase DNS subdomain (a-z, 0-9, '-', '.')", name)
	}
	return nil
}

func statePath(dir string, file string) string { return filepath.Join(dir, StateDir, file) }

// loadState reads the index of the PKI in dir.
func loadState(dir string) (*state, error) {
	b, err := os.ReadFile(statePath(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no PKI (run 'trustgate certs init --dir %s'): %w", dir, dir, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: %w", statePath(dir, stateFile), err)
	}
	if (st.Version != 1 && st.Version != stateVersion) || len(st.CAs) == 0 {
		return nil, fmt.Errorf("%s: unsupported or empty PKI index (version %d)", statePath(dir, stateFile), st.Version)
	}
	return st, nil
}

// save writes the index atomically.
func (st *state) save(dir string) error {
	st.Version = stateVersion
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(statePath(dir, stateFile), append(b, '\n'), 0o600)
}

// serialLimit bounds serial numbers to 128 random bits: unpredictable (the
// CA/Browser Forum asks for at least 64), and unique across PKIs, so two
// `certs init` runs never make two certificates with the same issuer and
// serial (which browsers and NSS reject: SEC_ERROR_REUSED_ISSUER_AND_SERIAL).
// RFC 5280 allows up to 20 octets; a positive 128-bit INTEGER takes 17.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// newSerial draws a random positive serial number that no certificate of
// the PKI has yet.
func (st *state) newSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("serial number: %w", err)
		}
		if n.Sign() > 0 && !st.serialUsed(n.String()) {
			return n, nil
		}
	}
}

// serialUsed reports whether a CA or certificate of the PKI has the
// (decimal) serial.
func (st *state) serialUsed(serial string) bool {
	for _, c := range st.CAs {
		if c.Serial == serial {
			return true
		}
	}
	for _, r := range st.Certs {
		if r.Serial == serial {
			return true
		}
	}
	return false
}

// findCA returns the record of the named CA, or nil.
func (st *state) findCA(name string) *caRecord {
	for _, c := range st.CAs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// current returns the live (not superseded) record of a name, or nil.
func (st *state) current(name string) *record {
	for _, r := range st.Certs {
		if r.Name == name && !r.Superseded {
			return r
		}
	}
	return nil
}

// loadCA reads a CA's certificate, key and current CRL, if it has one.
func loadCA(dir string, rec *caRecord) (*ca, error) {
	cert, certPEM, err := readCACert(dir, rec)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(statePath(dir, rec.Name+".key"))
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", statePath(dir, rec.Name+".key"), err)
	}
	c := &ca{rec: rec, cert: cert, certPEM: certPEM, key: key}
	if rec.CRLNumber == 0 {
		return c, nil // no CRL published yet
	}
	if c.crlPEM, err = os.ReadFile(statePath(dir, rec.Name+".crl")); err != nil {
		return nil, err
	}
	return c, nil
}

// readCACert reads a CA's certificate from the state directory, parsed and
// as PEM.
func readCACert(dir string, rec *caRecord) (*x509.Certificate, []byte, error) {
	path := statePath(dir, rec.Name+".crt")
	certPEM, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return cert, certPEM, nil
}

// loadCAs reads every CA of the PKI, root first.
func loadCAs(dir string, st *state) ([]*ca, error) {
	cas := make([]*ca, 0, len(st.CAs))
	for _, rec := range st.CAs {
		c, err := loadCA(dir, rec)
		if err != nil {
			return nil, err
		}
		cas = append(cas, c)
	}
	return cas, nil
}

// chainOf returns the CAs from the named issuer up to the root, issuer first.
func chainOf(cas []*ca, issuer string) []*ca {
	// The PKI has at most two levels: the intermediate is signed by the root.
	var out []*ca
	for _, c := range cas {
		if c.rec.Name == issuer {
			out = append(out, c)
		}
	}
	if issuer != CARoot {
		for _, c := range cas {
			if c.rec.Name == CARoot {
				out = append(out, c)
			}
		}
	}
	return out
}

// bundles returns the concatenated certificates and CRLs of a chain of CAs.
func bundles(chain []*ca) (caPEM, crlPEM []byte) {
	for _, c := range chain {
		caPEM = append(caPEM, c.certPEM...)
		crlPEM = append(crlPEM, c.crlPEM...)
	}
	return caPEM, crlPEM
}

// writeFile replaces path atomically (write to a temporary file, then
// rename), so that a watcher never reads half a certificate.
func writeFile(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), dirMode(path)); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, mode)); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}

// dirMode keeps the state directory private; secret directories are
// readable, their keys are not.
func dirMode(path string) fs.FileMode {
	if filepath.Base(filepath.Dir(path)) == StateDir {
		return 0o700
	}
	return 0o755
}
