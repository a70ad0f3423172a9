package model

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// TestDERThatEndsInWhitespaceBytes converts DER whose last byte happens to
// be a space, tab, CR or LF (a signature's last byte is random, so about one
// certificate in 64): such a byte is part of the object, not trailing text,
// and must not be cut off.
func TestDERThatEndsInWhitespaceBytes(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, last := range []byte{'\n', '\r', ' ', '\t'} {
		der := certEndingIn(t, key, last)
		for name, in := range map[string][]byte{"alone": der, "with a trailing newline": append(append([]byte(nil), der...), '\n')} {
			out, err := derToPEM(in)
			if err != nil {
				t.Errorf("last byte %q, %s: %v", last, name, err)
				continue
			}
			blk, rest := pem.Decode(out)
			if blk == nil || string(blk.Bytes) != string(der) || len(rest) != 0 {
				t.Errorf("last byte %q, %s: the PEM does not hold the certificate", last, name)
			}
		}
	}
}

// certEndingIn makes self-signed certificates until one's DER ends in b.
func certEndingIn(t *testing.T, key *ecdsa.PrivateKey, b byte) []byte {
	t.Helper()
	for i := 0; i < 20000; i++ {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "ws"},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		if der[len(der)-1] == b {
			return der
		}
	}
	t.Fatalf("no certificate ending in %q", b)
	return nil
}
