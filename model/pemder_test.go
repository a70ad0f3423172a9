package model

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// der returns the DER of every PEM block, concatenated.
func der(t *testing.T, pemData []byte) []byte {
	t.Helper()
	var out []byte
	for rest := pemData; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		out = append(out, b.Bytes...)
	}
	if len(out) == 0 {
		t.Fatal("no PEM block")
	}
	return out
}

// tlv encodes one DER element with a one-byte tag.
func tlv(tag byte, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	n := len(body)
	var length []byte
	switch {
	case n < 0x80:
		length = []byte{byte(n)}
	case n < 0x100:
		length = []byte{0x81, byte(n)}
	default:
		length = []byte{0x82, byte(n >> 8), byte(n)}
	}
	return append(append([]byte{tag}, length...), body...)
}

// p7b builds a DER PKCS#7 signedData bundle (what openssl crl2pkcs7 and
// Windows' .p7b export write) holding certs and crls, independently of the
// parser under test.
func p7b(t *testing.T, certs, crls [][]byte) []byte {
	t.Helper()
	oid := func(o asn1.ObjectIdentifier) []byte {
		b, err := asn1.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fields := [][]byte{
		{0x02, 0x01, 0x01}, // version 1
		tlv(0x31),          // digestAlgorithms: empty SET
		tlv(0x30, oid(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1})), // contentInfo: data
	}
	if len(certs) > 0 {
		fields = append(fields, tlv(0xa0, certs...)) // [0] IMPLICIT certificates
	}
	if len(crls) > 0 {
		fields = append(fields, tlv(0xa1, crls...)) // [1] IMPLICIT crls
	}
	fields = append(fields, tlv(0x31)) // signerInfos: empty SET
	return tlv(0x30, oid(oidSignedData), tlv(0xa0, tlv(0x30, fields...)))
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestToPEM(t *testing.T) {
	p := getPKI(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER := x509.MarshalPKCS1PrivateKey(rsaKey)
	cert, ca, crl := der(t, p.Cert), der(t, p.CA), der(t, p.CRL)
	bundle := p7b(t, [][]byte{cert, ca}, [][]byte{crl})
	notACert := tlv(0x30, []byte{0x02, 0x01, 0x05}) // SEQUENCE { INTEGER 5 }
	tests := map[string]struct {
		in, want []byte
	}{
		"PEM is unchanged":                  {in: p.Cert, want: p.Cert},
		"PEM with openssl's text":           {in: append([]byte("subject=CN = test\n"), p.CA...), want: append([]byte("subject=CN = test\n"), p.CA...)},
		"DER certificate":                   {in: cert, want: p.Cert},
		"DER certificate with a newline":    {in: append(append([]byte(nil), cert...), '\n'), want: p.Cert},
		"concatenated DER certificates":     {in: append(append([]byte(nil), cert...), ca...), want: append(append([]byte(nil), p.Cert...), p.CA...)},
		"DER CRL":                           {in: crl, want: p.CRL},
		"DER PKCS#8 key":                    {in: der(t, p.Key), want: p.Key},
		"DER PKCS#1 RSA key":                {in: rsaDER, want: pemOf("RSA PRIVATE KEY", rsaDER)},
		"DER SEC1 EC key":                   {in: ecDER, want: pemOf("EC PRIVATE KEY", ecDER)},
		"DER PKCS#7 bundle (.p7b)":          {in: bundle, want: bytes.Join([][]byte{p.Cert, p.CA, p.CRL}, nil)},
		"PEM PKCS#7 block among others":     {in: append(pemOf("PKCS7", p7b(t, [][]byte{ca}, nil)), p.CRL...), want: append(append([]byte(nil), p.CA...), p.CRL...)},
		"PEM PKCS#7 block that is no p7b":   {in: pemOf("PKCS7", notACert), want: pemOf("PKCS7", notACert)},
		"a SEQUENCE that is none of these":  {in: notACert, want: notACert},
		"DER with a bad object after":       {in: append(append([]byte(nil), cert...), notACert...), want: append(append([]byte(nil), cert...), notACert...)},
		"truncated DER":                     {in: cert[:len(cert)-10], want: cert[:len(cert)-10]},
		"text":                              {in: []byte("not a certificate"), want: []byte("not a certificate")},
		"empty":                             {in: nil, want: nil},
		"PKCS#7 with no certificate or CRL": {in: p7b(t, nil, nil), want: p7b(t, nil, nil)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := toPEM(tc.in); !bytes.Equal(got, tc.want) {
				t.Errorf("toPEM:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// derGateway uses every Istio file field of a MUTUAL server.
const derGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [httpbin.example.com]
    tls: {mode: MUTUAL, serverCertificate: certs/server.der, privateKey: certs/key.der, caCertificates: certs/ca.p7b, caCrl: certs/ca.crl}
`

// TestDERInput: DER certificates, keys, CA bundles and CRLs load as PEM from
// Secret documents, the secrets directory and Istio's file fields, and pass
// validation; Envoy then gets PEM.
func TestDERInput(t *testing.T) {
	p := getPKI(t)
	cert, key, ca, crl := der(t, p.Cert), der(t, p.Key), der(t, p.CA), der(t, p.CRL)
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	writeFiles(t, dir, map[string]string{
		"conf/secret.yaml":      secretDoc("istio-system", "doc", map[string][]byte{"tls.crt": cert, "tls.key": key, "ca.crt": ca, "ca.crl": crl}),
		"conf/gw.yaml":          derGateway,
		"conf/certs/server.der": string(cert), "conf/certs/key.der": string(key),
		"conf/certs/ca.p7b": string(p7b(t, [][]byte{ca}, nil)), "conf/certs/ca.crl": string(crl),
		"secrets/dir/tls.crt": string(cert), "secrets/dir/tls.key": string(key),
		"secrets/dir/ca.crt": string(ca), "secrets/dir/ca.crl": string(crl),
	})
	cfg, err := Load(LoadOptions{Paths: []string{filepath.Join(dir, "conf")}, SecretsDirs: []string{secrets}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	want := &Credential{Cert: p.Cert, Key: p.Key, CA: p.CA, CRL: p.CRL}
	for name, secret := range map[string]string{"Secret document": "doc", "secrets directory": "dir"} {
		t.Run(name, func(t *testing.T) {
			got, err := cfg.ResolveCredential("istio-system", secret)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([][]byte{want.Cert, want.Key, want.CA, want.CRL}, [][]byte{got.Cert, got.Key, got.CA, got.CRL}); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
		})
	}
	gw := &cfg.Gateways[0].Object
	for file, want := range map[string][]byte{"certs/server.der": p.Cert, "certs/key.der": p.Key, "certs/ca.p7b": p.CA, "certs/ca.crl": p.CRL} {
		t.Run("file field "+file, func(t *testing.T) {
			if got, ok := cfg.File(gw, file); !ok || !bytes.Equal(got, want) {
				t.Errorf("File(%s) = %q, %v; want %q", file, got, ok, want)
			}
		})
	}
}

// TestUnreadableMaterialHints: material that is neither PEM nor DER trustgate
// can read gets an error that says what it is and how to convert it.
func TestUnreadableMaterialHints(t *testing.T) {
	p := getPKI(t)
	cert := der(t, p.Cert)
	tests := map[string]struct {
		value []byte
		want  string
	}{
		"DER that does not parse": {
			value: cert[:len(cert)-10],
			want:  `data.ca.crt: no PEM "CERTIFICATE" block found (the data is binary DER that trustgate could not read: `,
		},
		"base64 of PEM (encoded twice)": {
			value: []byte(base64.StdEncoding.EncodeToString(p.CA)),
			want:  `data.ca.crt: no PEM "CERTIFICATE" block found (the value is base64 of PEM, encoded twice`,
		},
		"base64 of DER without PEM armour": {
			value: []byte(base64.StdEncoding.EncodeToString(der(t, p.CA))),
			want:  `data.ca.crt: no PEM "CERTIFICATE" block found (the value is base64 without PEM armour`,
		},
		"plain text": {
			value: []byte("hello"),
			want:  `data.ca.crt: no PEM "CERTIFICATE" block found`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, errs := loadText(t, secretDoc("istio-system", "s", map[string][]byte{"ca.crt": tc.value}))
			if errs != nil {
				t.Fatalf("Load: %v", errs)
			}
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(tc.want, "DER") && !strings.Contains(err.Error(), "openssl x509 -inform der") {
				t.Errorf("no conversion command in %v", err)
			}
		})
	}
}
