package certcheck

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// now is the fixed "current time" of every test.
var now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// pair is a certificate with its key, parsed and as PEM.
type pair struct {
	cert   *x509.Certificate
	key    crypto.Signer
	pem    []byte
	keyPEM []byte
}

// spec describes a certificate for mk; zero fields get defaults.
type spec struct {
	cn        string
	ca        bool
	parent    *pair // nil: self-signed
	key       crypto.Signer
	dns       []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
	sigAlg    x509.SignatureAlgorithm
	keyUsage  x509.KeyUsage
	eku       []x509.ExtKeyUsage
	names     []pkix.AttributeTypeAndValue // the whole subject, in order, instead of cn
}

var serial struct {
	sync.Mutex
	n int64
}

func nextSerial() *big.Int {
	serial.Lock()
	defer serial.Unlock()
	serial.n++
	return big.NewInt(serial.n)
}

func ecKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t testing.TB, bits int) crypto.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mk makes a certificate the way openssl or cert-manager would.
func mk(t testing.TB, s spec) *pair {
	t.Helper()
	if s.key == nil {
		s.key = ecKey(t)
	}
	if s.notBefore.IsZero() {
		s.notBefore = now.Add(-24 * time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = now.AddDate(1, 0, 0)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: s.cn},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		SignatureAlgorithm:    s.sigAlg,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		KeyUsage:              s.keyUsage,
		ExtKeyUsage:           s.eku,
	}
	if s.names != nil {
		tmpl.Subject = pkix.Name{ExtraNames: s.names}
	}
	if s.keyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if s.ca {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
	}
	if s.eku == nil && !s.ca {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	parent, signer := tmpl, s.key
	if s.parent != nil {
		parent, signer = s.parent.cert, s.parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, s.key.Public(), signer)
	if err != nil {
		t.Fatalf("create %s: %v", s.cn, err)
	}
	return fromDER(t, der, s.key)
}

func fromDER(t testing.TB, der []byte, key crypto.Signer) *pair {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &pair{
		cert:   c,
		key:    key,
		pem:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}),
	}
}

// md5Cert makes a certificate signed with MD5-RSA, which Go refuses to
// create: it signs with SHA1-RSA, rewrites the algorithm OID (same length)
// in the TBS and outer structures, and re-signs the TBS with MD5.
func md5Cert(t testing.TB, s spec) *pair {
	t.Helper()
	if _, ok := s.parent.key.(*rsa.PrivateKey); !ok {
		t.Fatal("md5Cert needs an RSA issuer")
	}
	s.sigAlg = x509.SHA1WithRSA
	p := mk(t, s)
	sha1OID := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05}
	md5OID := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04}
	der := bytes.ReplaceAll(p.cert.Raw, sha1OID, md5OID)
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(c.RawTBSCertificate)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.parent.key.(*rsa.PrivateKey), crypto.MD5, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	der = bytes.Replace(der, c.Signature, sig, 1)
	out := fromDER(t, der, p.key)
	if out.cert.SignatureAlgorithm != x509.MD5WithRSA {
		t.Fatalf("crafted certificate has %v", out.cert.SignatureAlgorithm)
	}
	return out
}

// mkCRL signs a CRL as issuer.
func mkCRL(t testing.TB, issuer *pair, thisUpdate, nextUpdate time.Time) []byte {
	t.Helper()
	return mkCRLAs(t, issuer.cert, issuer.key, thisUpdate, nextUpdate)
}

// mkCRLAs signs a CRL with key under the name of cert (which may be a
// variant of the real CA that Go accepts as a CRL issuer).
func mkCRLAs(t testing.TB, cert *x509.Certificate, key crypto.Signer, thisUpdate, nextUpdate time.Time) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: nextSerial(), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// goodCRL is a CRL valid at now for a month.
func goodCRL(t testing.TB, issuer *pair) []byte {
	t.Helper()
	return mkCRL(t, issuer, now.Add(-time.Hour), now.AddDate(0, 1, 0))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// pki is a root -> intermediate -> leaf hierarchy shared by the tests.
type pki struct {
	root, inter, leaf *pair
	rsaRoot           *pair // an RSA root, to sign with SHA-1 and MD5
}

var (
	pkiOnce sync.Once
	shared  pki
)

func testPKI(t testing.TB) pki {
	t.Helper()
	pkiOnce.Do(func() {
		shared.root = mk(t, spec{cn: "Test Root CA", ca: true})
		shared.inter = mk(t, spec{cn: "Test Intermediate CA", ca: true, parent: shared.root})
		shared.leaf = mk(t, spec{cn: "api.example.com", parent: shared.inter, dns: []string{"api.example.com", "*.apps.example.com"}})
		shared.rsaRoot = mk(t, spec{cn: "Test RSA Root CA", ca: true, key: rsaKey(t, 2048)})
	})
	return shared
}

// codes lists the codes of findings, in order.
func codes(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// checkWellFormed asserts every finding says what and how to fix.
func checkWellFormed(t *testing.T, fs []Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Message == "" || f.Fix == "" || f.Code == "" {
			t.Errorf("incomplete finding: %+v", f)
		}
	}
}

// publicKeyPEM is the "PUBLIC KEY" block of a pair, a common wrong tls.key.
func publicKeyPEM(t testing.TB, p *pair) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(p.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// pkcs1 is an RSA key in "RSA PRIVATE KEY" (openssl genrsa -traditional).
func pkcs1(t testing.TB, p *pair) []byte {
	t.Helper()
	k, ok := p.key.(*rsa.PrivateKey)
	if !ok {
		t.Fatal("pkcs1 needs an RSA key")
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// sec1 is an EC key as 'openssl ecparam -genkey' writes it: an "EC
// PARAMETERS" block, then "EC PRIVATE KEY".
func sec1(t testing.TB, p *pair) []byte {
	t.Helper()
	k, ok := p.key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatal("sec1 needs an ECDSA key")
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	params := []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07} // prime256v1
	return cat(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: params}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}
