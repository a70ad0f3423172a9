package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/trustgate/trustgate/internal/pembundle"
)

// KeyType is the algorithm of a generated key.
type KeyType string

// Key types.
const (
	KeyECDSA KeyType = "ecdsa" // P-256, the default
	KeyRSA   KeyType = "rsa"   // 2048 bits
)

// rsaBits is the RSA key size: the smallest that no checker flags as weak.
const rsaBits = 2048

// generateKey makes a fresh random key of the given type ("" is ECDSA).
func generateKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case KeyECDSA, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyRSA:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return nil, fmt.Errorf("key type %q: want %q or %q", t, KeyECDSA, KeyRSA)
	}
}

// encodeKey returns a key as a PKCS#8 "PRIVATE KEY" PEM block.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// encodeCert returns a DER certificate as a PEM block.
func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// parseCertPEM parses the first certificate of a PEM file.
func parseCertPEM(b []byte) (*x509.Certificate, error) {
	certs, err := pembundle.Certificates(b)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	return certs[0], nil
}

// parseKeyPEM parses the PKCS#8 key written by encodeKey.
func parseKeyPEM(b []byte) (crypto.Signer, error) {
	blocks, _ := pembundle.Decode(b)
	if len(blocks) == 0 || blocks[0].Type != pembundle.PKCS8Key {
		return nil, errors.New("no PRIVATE KEY block")
	}
	key, _, err := pembundle.ParseKey(pembundle.PKCS8Key, blocks[0].Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key of type %T cannot sign", key)
	}
	return signer, nil
}

// encodeCRL returns a DER CRL as an "X509 CRL" PEM block.
func encodeCRL(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// sign creates the certificate of tmpl for key, signed by signer (signerKey),
// and returns it parsed and as PEM, with key as PEM.
func sign(tmpl, signer *x509.Certificate, key, signerKey crypto.Signer) (cert *x509.Certificate, certPEM, keyPEM []byte, err error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, key.Public(), signerKey)
	if err != nil {
		return nil, nil, nil, err
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		return nil, nil, nil, err
	}
	if keyPEM, err = encodeKey(key); err != nil {
		return nil, nil, nil, err
	}
	return cert, encodeCert(der), keyPEM, nil
}
