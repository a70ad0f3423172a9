package pembundle

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
)

// PEM block types.
const (
	Cert         = "CERTIFICATE"
	CRL          = "X509 CRL"
	PKCS8Key     = "PRIVATE KEY"
	PKCS1Key     = "RSA PRIVATE KEY"
	SEC1Key      = "EC PRIVATE KEY"
	EncryptedKey = "ENCRYPTED PRIVATE KEY"
	ECParams     = "EC PARAMETERS"
	PKCS7        = "PKCS7"
)

// BeginMarker starts every PEM block.
const BeginMarker = "-----BEGIN "

// Decode returns every PEM block of data in order, and how many blocks it
// skipped as malformed: encoding/pem passes over a block with a bad header
// or bad base64 and resumes at the next BEGIN line, where BoringSSL (and so
// Envoy) fails the whole file.
func Decode(data []byte) (blocks []*pem.Block, malformed int) {
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		blocks = append(blocks, block)
	}
	if begins := bytes.Count(data, []byte(BeginMarker)); begins > len(blocks) {
		malformed = begins - len(blocks)
	}
	return blocks, malformed
}

// Certificates parses every CERTIFICATE block of data, in order, skipping
// blocks of other types.
func Certificates(data []byte) ([]*x509.Certificate, error) {
	return parseAll(data, Cert, x509.ParseCertificate)
}

// CRLs parses every X509 CRL block of data, in order, skipping blocks of
// other types.
func CRLs(data []byte) ([]*x509.RevocationList, error) {
	return parseAll(data, CRL, x509.ParseRevocationList)
}

func parseAll[T any](data []byte, typ string, parse func([]byte) (T, error)) ([]T, error) {
	blocks, _ := Decode(data)
	var out []T
	for _, b := range blocks {
		if b.Type != typ {
			continue
		}
		v, err := parse(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// IsKey reports whether a block type holds an unencrypted private key.
func IsKey(typ string) bool { return typ == PKCS8Key || typ == PKCS1Key || typ == SEC1Key }

// ParseKey parses a DER private key, trying first the format typ names
// (PKCS8Key, PKCS1Key or SEC1Key) and then the others: a PKCS#1 body under
// a "PRIVATE KEY" header is common. It returns the block type of the format
// that parsed, or the first format's error.
func ParseKey(typ string, der []byte) (key crypto.PrivateKey, format string, err error) {
	formats := []struct {
		typ   string
		parse func([]byte) (crypto.PrivateKey, error)
	}{
		{PKCS8Key, func(d []byte) (crypto.PrivateKey, error) { return x509.ParsePKCS8PrivateKey(d) }},
		{PKCS1Key, func(d []byte) (crypto.PrivateKey, error) { return x509.ParsePKCS1PrivateKey(d) }},
		{SEC1Key, func(d []byte) (crypto.PrivateKey, error) { return x509.ParseECPrivateKey(d) }},
	}
	switch typ {
	case PKCS1Key:
		formats[0], formats[1] = formats[1], formats[0]
	case SEC1Key:
		formats[0], formats[2] = formats[2], formats[0]
	}
	var first error
	for _, f := range formats {
		k, err := f.parse(der)
		if err == nil {
			return k, f.typ, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, "", first
}

// Kind is what data that holds no PEM block is.
type Kind int

// Kinds of data that hold no PEM block.
const (
	Unknown   Kind = iota // empty, or nothing recognisable
	DER                   // binary: an ASN.1 SEQUENCE
	Base64PEM             // base64 of PEM: encoded twice
	Base64DER             // base64 of DER: PEM without its armour
)

// Classify tells what data that holds no PEM block is.
func Classify(data []byte) Kind {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Unknown
	}
	if trimmed[0] == 0x30 {
		return DER
	}
	compact := strings.Join(strings.Fields(string(trimmed)), "")
	dec, err := base64.StdEncoding.DecodeString(compact)
	switch {
	case err != nil:
		return Unknown
	case bytes.Contains(dec, []byte(BeginMarker)):
		return Base64PEM
	case len(dec) > 0 && dec[0] == 0x30:
		return Base64DER
	}
	return Unknown
}
