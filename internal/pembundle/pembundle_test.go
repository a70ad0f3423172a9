package pembundle_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/internal/pembundle"
)

// material is one development PKI's output: an ECDSA and an RSA server
// certificate with their keys, the CA and its CRL.
type material struct {
	ec, rsa *certs.Issued
}

func newMaterial(t *testing.T) material {
	t.Helper()
	dir := t.TempDir()
	if err := certs.Init(dir, certs.InitOptions{CRL: true}); err != nil {
		t.Fatal(err)
	}
	ec, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: "ec", Hosts: []string{"ec.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: "rsa", Hosts: []string{"rsa.example.com"}, Key: certs.KeyRSA})
	if err != nil {
		t.Fatal(err)
	}
	return material{ec: ec, rsa: rs}
}

func block(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func keyDER(t *testing.T, keyPEM []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(keyPEM)
	if b == nil {
		t.Fatal("no key block")
	}
	return b.Bytes
}

func TestDecode(t *testing.T) {
	m := newMaterial(t)
	corrupt := []byte("-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n")
	cases := map[string]struct {
		in            []byte
		wantTypes     []string
		wantMalformed int
	}{
		"certificate, key and CRL in file order": {
			in:        bytes.Join([][]byte{m.ec.CertPEM, m.ec.KeyPEM, m.ec.CRLPEM}, nil),
			wantTypes: []string{pembundle.Cert, pembundle.PKCS8Key, pembundle.CRL},
		},
		"text around the blocks, as openssl writes it": {
			in:        append([]byte("subject=CN = ec.example.com\n"), m.ec.CertPEM...),
			wantTypes: []string{pembundle.Cert},
		},
		"a malformed block between two good ones is counted": {
			in:            bytes.Join([][]byte{m.ec.CertPEM, corrupt, m.ec.CAPEM}, nil),
			wantTypes:     []string{pembundle.Cert, pembundle.Cert},
			wantMalformed: 1,
		},
		"no PEM at all": {in: []byte("hello")},
		"empty":         {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			blocks, malformed := pembundle.Decode(tc.in)
			var types []string
			for _, b := range blocks {
				types = append(types, b.Type)
			}
			if diff := cmp.Diff(tc.wantTypes, types); diff != "" {
				t.Errorf("block types (-want +got):\n%s", diff)
			}
			if malformed != tc.wantMalformed {
				t.Errorf("malformed = %d, want %d", malformed, tc.wantMalformed)
			}
		})
	}
}

func TestCertificatesAndCRLs(t *testing.T) {
	m := newMaterial(t)
	bundle := bytes.Join([][]byte{m.ec.KeyPEM, m.ec.CertPEM, m.ec.CRLPEM, m.ec.CAPEM}, nil)
	got, err := pembundle.Certificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, c := range got {
		subjects = append(subjects, c.Subject.CommonName)
	}
	if diff := cmp.Diff([]string{"ec.example.com", certs.DefaultCommonName}, subjects); diff != "" {
		t.Errorf("certificates in file order, other blocks skipped (-want +got):\n%s", diff)
	}
	crls, err := pembundle.CRLs(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(crls) != 1 || crls[0].Issuer.CommonName != certs.DefaultCommonName {
		t.Errorf("CRLs = %d, want the CA's one", len(crls))
	}

	broken := map[string]func([]byte) error{
		"Certificates": func(b []byte) error { _, err := pembundle.Certificates(b); return err },
		"CRLs":         func(b []byte) error { _, err := pembundle.CRLs(b); return err },
	}
	for name, parse := range broken {
		t.Run(name+" fails on a block that does not parse", func(t *testing.T) {
			typ := pembundle.Cert
			if name == "CRLs" {
				typ = pembundle.CRL
			}
			if err := parse(append(block(typ, []byte{0x30, 0x03, 0x02, 0x01, 0x01}), m.ec.CertPEM...)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	m := newMaterial(t)
	ecKey, err := x509.ParsePKCS8PrivateKey(keyDER(t, m.ec.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := x509.ParsePKCS8PrivateKey(keyDER(t, m.rsa.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))
	cases := map[string]struct {
		typ        string
		der        []byte
		wantFormat string
	}{
		"PKCS#8 under its own header":      {typ: pembundle.PKCS8Key, der: keyDER(t, m.ec.KeyPEM), wantFormat: pembundle.PKCS8Key},
		"PKCS#1 under its own header":      {typ: pembundle.PKCS1Key, der: pkcs1, wantFormat: pembundle.PKCS1Key},
		"PKCS#1 body under PRIVATE KEY":    {typ: pembundle.PKCS8Key, der: pkcs1, wantFormat: pembundle.PKCS1Key},
		"SEC 1 under its own header":       {typ: pembundle.SEC1Key, der: sec1, wantFormat: pembundle.SEC1Key},
		"SEC 1 body under RSA PRIVATE KEY": {typ: pembundle.PKCS1Key, der: sec1, wantFormat: pembundle.SEC1Key},
		"no header: PKCS#8 tried first":    {der: keyDER(t, m.rsa.KeyPEM), wantFormat: pembundle.PKCS8Key},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			key, format, err := pembundle.ParseKey(tc.typ, tc.der)
			if err != nil {
				t.Fatal(err)
			}
			if key == nil || format != tc.wantFormat {
				t.Errorf("format = %q (key %T), want %q", format, key, tc.wantFormat)
			}
		})
	}
	t.Run("not a key: the named format's error", func(t *testing.T) {
		_, _, err := pembundle.ParseKey(pembundle.PKCS1Key, []byte{0x30, 0x00})
		_, want := x509.ParsePKCS1PrivateKey([]byte{0x30, 0x00})
		if err == nil || err.Error() != want.Error() {
			t.Errorf("error = %v, want %v", err, want)
		}
	})
}

func TestClassify(t *testing.T) {
	m := newMaterial(t)
	der, _ := pem.Decode(m.ec.CertPEM)
	cases := map[string]struct {
		in   []byte
		want pembundle.Kind
	}{
		"DER certificate":          {in: der.Bytes, want: pembundle.DER},
		"DER after white space":    {in: append([]byte("\n "), der.Bytes...), want: pembundle.DER},
		"base64 of PEM":            {in: []byte(base64.StdEncoding.EncodeToString(m.ec.CertPEM)), want: pembundle.Base64PEM},
		"base64 of DER, folded":    {in: []byte(base64.StdEncoding.EncodeToString(der.Bytes)[:64] + "\n" + base64.StdEncoding.EncodeToString(der.Bytes)[64:]), want: pembundle.Base64DER},
		"base64 of something else": {in: []byte(base64.StdEncoding.EncodeToString([]byte("hello"))), want: pembundle.Unknown},
		"text":                     {in: []byte("not a certificate"), want: pembundle.Unknown},
		"white space only":         {in: []byte(" \n\t"), want: pembundle.Unknown},
		"empty":                    {want: pembundle.Unknown},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := pembundle.Classify(tc.in); got != tc.want {
				t.Errorf("Classify = %d, want %d", got, tc.want)
			}
		})
	}
}
