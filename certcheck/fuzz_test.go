package certcheck

import (
	"encoding/base64"
	"encoding/pem"
	"testing"
	"time"
)

// The fuzz targets feed arbitrary bytes to every entry point: no input may
// panic or hang. Their seeds are real material, so plain `go test` runs
// them as regression tests.

func seedPEM(f *testing.F) [][]byte {
	p := testPKI(f)
	return [][]byte{
		cat(p.leaf.pem, p.inter.pem, p.root.pem),
		cat(p.leaf.keyPEM, p.leaf.pem),
		goodCRL(f, p.root),
		sec1(f, p.leaf),
		p.root.cert.Raw,
		[]byte(base64.StdEncoding.EncodeToString(p.root.pem)),
		[]byte("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n-----BEGIN X509 CRL-----\n"),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{0}}),
		md5Cert(f, spec{cn: "md5", parent: p.rsaRoot}).pem,
		{},
		{0x30},
	}
}

func FuzzParsePEMBundle(f *testing.F) {
	for _, s := range seedPEM(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, findings := ParsePEMBundle(data, "fuzz")
		if b == nil {
			t.Fatal("nil bundle")
		}
		for _, fd := range findings {
			if fd.Code == "" || fd.Message == "" {
				t.Fatalf("empty finding %+v", fd)
			}
		}
		_ = SummarizeChain(data)
		if _, err := Expiry(data); err == nil && len(b.Certs) == 0 {
			t.Fatal("Expiry succeeded without a certificate")
		}
	})
}

func FuzzCheckClientCA(f *testing.F) {
	p := testPKI(f)
	seeds := seedPEM(f)
	crls := [][]byte{cat(goodCRL(f, p.inter), goodCRL(f, p.root)), mkCRL(f, p.root, now.Add(-2*time.Hour), now.Add(-time.Hour)), nil}
	for i, s := range seeds {
		f.Add(s, crls[i%len(crls)], i%2 == 0)
	}
	f.Add(cat(p.inter.pem, p.root.pem), crls[0], false)
	f.Fuzz(func(t *testing.T, ca, crl []byte, onlyLeaf bool) {
		findings := CheckClientCA(ClientCAInput{CA: ca, CRL: crl, OnlyLeafCRL: onlyLeaf, Now: now, ExpiryWarning: time.Hour})
		for _, fd := range findings {
			if fd.Code == "" || fd.Message == "" || fd.Fix == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
		}
		_ = CheckUpstreamCA(ca, now, time.Hour)
	})
}

func FuzzCheckServing(f *testing.F) {
	p := testPKI(f)
	seeds := seedPEM(f)
	for i, s := range seeds {
		f.Add(s, p.leaf.keyPEM, "api.example.com")
		f.Add(cat(p.leaf.pem, p.inter.pem), s, "*.apps.example.com")
		f.Add(s, seeds[(i+1)%len(seeds)], "10.0.0.1")
	}
	f.Fuzz(func(t *testing.T, cert, key []byte, host string) {
		findings := CheckServing(ServingInput{Cert: cert, Key: key, CA: cert, Hosts: []string{host}, Now: now, ExpiryWarning: time.Hour})
		for _, fd := range findings {
			if fd.Code == "" || fd.Message == "" || fd.Fix == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
		}
	})
}

func FuzzCheckPins(f *testing.F) {
	for _, s := range []string{"NvqYIYSbgK2vCJpQhObf77vv+bQWtc5ek5RIOwPiC9A=", "sha256//x", "SHA256 Fingerprint=AB:CD", "", "=", "*:*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		spki, hash := CheckSPKI([]string{v}), CheckCertHash([]string{v})
		if len(spki) > 1 || len(hash) > 1 {
			t.Fatalf("one value gave %d and %d findings", len(spki), len(hash))
		}
	})
}
