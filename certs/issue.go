package certs

import (
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Kind is the purpose of a leaf certificate.
type Kind string

// Kinds of leaf certificates.
const (
	KindServer Kind = "server" // extendedKeyUsage serverAuth
	KindClient Kind = "client" // extendedKeyUsage clientAuth
)

// IssueOptions describe a leaf certificate.
type IssueOptions struct {
	// Name is the secret directory (DIR/<Name>/) and the index key.
	Name string
	// Hosts (server) become DNS or IP SANs; the first is also the CN unless
	// CommonName or Subject.DN says otherwise.
	Hosts []string
	// CommonName (client: required unless Subject.DN names one), and the
	// client's optional SANs.
	CommonName string
	URIs       []string
	DNSNames   []string
	Emails     []string
	// Organization is a shorthand for one Subject.Organization.
	Organization string
	// Subject adds O, OU, L, ST and C, or is the whole subject (DN).
	Subject Subject
	Days    int // validity; DefaultLeafDays if 0
	Key     KeyType
	// Issuer is CARoot or CAIntermediate; empty means the intermediate when
	// the PKI has one, else the root.
	Issuer string
	// Replace lets a new certificate take over an existing name (rotation);
	// the old one stays in the index for revocation.
	Replace bool
	Now     time.Time // time.Now() if zero
}

// Issued is a certificate just written, with the files of its secret
// directory.
type Issued struct {
	Name   string
	Dir    string // the secret directory
	Serial *big.Int
	Cert   *x509.Certificate
	// CertPEM is tls.crt: the leaf, then the intermediate if it issued it.
	CertPEM []byte
	KeyPEM  []byte // tls.key
	CAPEM   []byte // ca.crt: the issuer, then the root
	CRLPEM  []byte // ca.crl: one CRL per CA of ca.crt
}

// Issue signs a new server or client certificate and writes its secret
// directory DIR/<name>/ (tls.crt, tls.key, ca.crt, ca.crl).
func Issue(dir string, kind Kind, opts IssueOptions) (*Issued, error) {
	if opts.Days == 0 {
		opts.Days = DefaultLeafDays
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC().Truncate(time.Second)
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	if err := checkIssue(st, kind, opts); err != nil {
		return nil, err
	}
	cas, err := loadCAs(dir, st)
	if err != nil {
		return nil, err
	}
	issuer := opts.Issuer
	if issuer == "" {
		issuer = CARoot
		if st.findCA(CAIntermediate) != nil {
			issuer = CAIntermediate
		}
	}
	if st.findCA(issuer) == nil {
		return nil, fmt.Errorf("issuer %q: the PKI has no such CA (init with --intermediate?): %w", issuer, ErrNotFound)
	}
	chain := chainOf(cas, issuer)
	key, err := generateKey(opts.Key)
	if err != nil {
		return nil, err
	}
	tmpl, err := leafTemplate(kind, opts)
	if err != nil {
		return nil, err
	}
	if tmpl.SerialNumber, err = st.newSerial(); err != nil {
		return nil, err
	}
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		// TLS 1.2 RSA key exchange encrypts with the certificate's key.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	cert, certPEM, keyPEM, err := sign(tmpl, chain[0].cert, key, chain[0].key)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", opts.Name, err)
	}
	out := &Issued{Name: opts.Name, Dir: filepath.Join(dir, opts.Name), Serial: tmpl.SerialNumber, Cert: cert, KeyPEM: keyPEM}
	// tls.crt carries every CA between the leaf and the root: clients only
	// have the root.
	out.CertPEM = certPEM
	for _, c := range chain[:len(chain)-1] {
		out.CertPEM = append(out.CertPEM, c.certPEM...)
	}
	out.CAPEM, out.CRLPEM = bundles(chain)
	if err := writeSecret(out); err != nil {
		return nil, err
	}
	if old := st.current(opts.Name); old != nil {
		old.Superseded = true
	}
	st.Certs = append(st.Certs, &record{Name: opts.Name, Kind: kind, Issuer: issuer, Serial: tmpl.SerialNumber.String(), NotAfter: cert.NotAfter})
	return out, st.save(dir)
}

// checkIssue rejects bad names and options before anything is generated.
func checkIssue(st *state, kind Kind, opts IssueOptions) error {
	if err := validName(opts.Name); err != nil {
		return err
	}
	if opts.Name == st.CASecretName {
		return fmt.Errorf("name %q is the CA secret directory", opts.Name)
	}
	if st.current(opts.Name) != nil && !opts.Replace {
		return fmt.Errorf("certificate %q: %w", opts.Name, ErrExists)
	}
	if opts.Days < 0 {
		return fmt.Errorf("days %d: must be positive", opts.Days)
	}
	switch kind {
	case KindServer:
		if len(opts.Hosts) == 0 {
			return errors.New("a server certificate needs at least one host")
		}
	case KindClient:
		if opts.CommonName == "" && opts.Subject.DN == "" {
			return errors.New("a client certificate needs a common name")
		}
	default:
		return fmt.Errorf("kind %q: want %q or %q", kind, KindServer, KindClient)
	}
	return nil
}

// leafTemplate fills subject, SANs and usages of a leaf certificate.
func leafTemplate(kind Kind, opts IssueOptions) (*x509.Certificate, error) {
	subject, err := leafSubject(kind, opts)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               subject,
		NotBefore:             opts.Now.Add(-clockSkew),
		NotAfter:              opts.Now.AddDate(0, 0, opts.Days),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if kind == KindServer {
		// SANs always: modern clients ignore the CN ("certificate relies on
		// legacy Common Name field"); the CN is for humans.
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range opts.Hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
				continue
			}
			if err := checkDNSName(h); err != nil {
				return nil, err
			}
			tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(h))
		}
		return tmpl, nil
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	for _, d := range opts.DNSNames {
		if err := checkDNSName(d); err != nil {
			return nil, err
		}
		tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(d))
	}
	for _, raw := range opts.URIs {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("URI SAN %q: want an absolute URI such as spiffe://trust.domain/ns/x/sa/y", raw)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	for _, e := range opts.Emails {
		if !strings.Contains(e, "@") {
			return nil, fmt.Errorf("email SAN %q: want user@domain", e)
		}
	}
	tmpl.EmailAddresses = append(tmpl.EmailAddresses, opts.Emails...)
	return tmpl, nil
}

// leafSubject is a leaf's subject: the common name (a server's first host
// by default) with the subject options, or the subject DN. A client
// certificate must have a common name.
func leafSubject(kind Kind, opts IssueOptions) (pkix.Name, error) {
	subject := opts.Subject
	if opts.Organization != "" {
		subject.Organization = append([]string{opts.Organization}, subject.Organization...)
	}
	cn := opts.CommonName
	if kind == KindServer && cn == "" && subject.DN == "" {
		cn = opts.Hosts[0]
	}
	n, err := subject.name(cn)
	if err != nil {
		return pkix.Name{}, err
	}
	if kind == KindClient && commonName(n) == "" {
		return pkix.Name{}, errors.New("a client certificate needs a common name: add CN= to the subject DN")
	}
	return n, nil
}

// checkDNSName accepts host names and a leading "*." wildcard label.
func checkDNSName(h string) error {
	name := strings.TrimPrefix(h, "*.")
	if name == "" || strings.ContainsAny(name, " */:@") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("host %q: want a DNS name, a *.wildcard or an IP address", h)
	}
	return nil
}

// writeSecret writes a secret directory; the key is private to its owner.
func writeSecret(is *Issued) error {
	if err := writeFile(filepath.Join(is.Dir, FileKey), is.KeyPEM, 0o600); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(is.Dir, FileCert), is.CertPEM, 0o644); err != nil {
		return err
	}
	return writeCAFiles(is.Dir, is.CAPEM, is.CRLPEM)
}
