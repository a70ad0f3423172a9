package certcheck

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
)

// Bundle is what a PEM file holds, in file order.
type Bundle struct {
	Certs []*x509.Certificate
	CRLs  []*x509.RevocationList
	// Keys are the private keys that parsed; KeyBlocks counts every
	// private-key block, parsed or not (encrypted, corrupt).
	Keys      []crypto.PrivateKey
	KeyBlocks int
	// Other lists the types of the remaining blocks ("PUBLIC KEY", ...).
	Other []string
}

// PEM block types.
const (
	blockCert      = "CERTIFICATE"
	blockCRL       = "X509 CRL"
	blockPKCS8     = "PRIVATE KEY"
	blockPKCS1     = "RSA PRIVATE KEY"
	blockSEC1      = "EC PRIVATE KEY"
	blockEncrypted = "ENCRYPTED PRIVATE KEY"
	blockECParams  = "EC PARAMETERS"
)

const beginMarker = "-----BEGIN "

// ParsePEMBundle decodes every block of a PEM file; file names it in
// findings ("tls.crt"). Unparseable blocks, data that is not PEM at all (DER,
// base64 of PEM) and malformed blocks become findings; empty input gives an
// empty bundle and no finding (the caller knows whether empty is wrong).
func ParsePEMBundle(data []byte, file string) (*Bundle, []Finding) {
	b := &Bundle{}
	if len(bytes.TrimSpace(data)) == 0 {
		return b, nil
	}
	var out []Finding
	rest, n := data, 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		out = append(out, b.add(block, fmt.Sprintf("%s block %d", file, n))...)
	}
	// pem.Decode silently skips a block with a bad header or bad base64 and
	// resumes at the next BEGIN line; BoringSSL fails the whole file.
	if begins := bytes.Count(data, []byte(beginMarker)); begins > n {
		out = append(out, errorf(CodePEMInvalid,
			"Re-export the file; check for a truncated copy-paste, a missing '-----END' line, or stray characters inside the base64.",
			"%s: %d of its %d PEM blocks are malformed (bad base64, a missing END line or a damaged header): Envoy fails to load the whole file (e.g. 'Failed to load certificate chain', 'Failed to load trusted CA certificates').",
			file, begins-n, begins))
	}
	if n == 0 && !bytes.Contains(data, []byte(beginMarker)) {
		out = append(out, notPEM(data, file))
	}
	return b, out
}

// add parses one block into the bundle.
func (b *Bundle) add(block *pem.Block, where string) []Finding {
	switch block.Type {
	case blockCert:
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return []Finding{errorf(CodeCertUnparseable,
				"Re-export the certificate (openssl x509 -in cert.pem -out fixed.pem) and check that it is a certificate, not a request or a key.",
				"%s: the certificate does not parse (%v): Envoy fails to load it.", where, err)}
		}
		b.Certs = append(b.Certs, c)
	case blockCRL:
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return []Finding{errorf(CodeCRLUnparseable,
				"Re-export the CRL from its CA (openssl crl -in ca.crl -out fixed.crl).",
				"%s: the CRL does not parse (%v): Envoy fails with 'Failed to load CRL'.", where, err)}
		}
		b.CRLs = append(b.CRLs, crl)
	case blockPKCS8, blockPKCS1, blockSEC1:
		b.KeyBlocks++
		// Legacy OpenSSL encryption: "Proc-Type: 4,ENCRYPTED" and "DEK-Info".
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return []Finding{encryptedKey(where)}
		}
		key, err := parseKey(block)
		if err != nil {
			return []Finding{errorf(CodeKeyUnparseable,
				"Re-export the key unencrypted as PKCS#8 (openssl pkey -in key.pem -out tls.key).",
				"%s: the %s does not parse (%v): Envoy rejects the secret.", where, block.Type, err)}
		}
		b.Keys = append(b.Keys, key)
	case blockEncrypted:
		b.KeyBlocks++
		return []Finding{encryptedKey(where)}
	case blockECParams:
		// openssl ecparam -genkey writes the curve before the key; harmless.
	default:
		b.Other = append(b.Other, block.Type)
	}
	return nil
}

// parseKey parses a private key in the format its block type names, falling
// back to the others (a PKCS#1 body under a "PRIVATE KEY" header is common).
func parseKey(block *pem.Block) (crypto.PrivateKey, error) {
	var first error
	parsers := []func([]byte) (crypto.PrivateKey, error){
		func(d []byte) (crypto.PrivateKey, error) { return x509.ParsePKCS8PrivateKey(d) },
		func(d []byte) (crypto.PrivateKey, error) { return x509.ParsePKCS1PrivateKey(d) },
		func(d []byte) (crypto.PrivateKey, error) { return x509.ParseECPrivateKey(d) },
	}
	switch block.Type {
	case blockPKCS1:
		parsers[0], parsers[1] = parsers[1], parsers[0]
	case blockSEC1:
		parsers[0], parsers[2] = parsers[2], parsers[0]
	}
	for _, p := range parsers {
		key, err := p(block.Bytes)
		if err == nil {
			return key, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

func encryptedKey(where string) Finding {
	return errorf(CodeKeyEncrypted,
		"Decrypt it: openssl pkey -in encrypted.key -out tls.key (and keep the result private).",
		"%s: the private key is encrypted with a passphrase, which trustgate does not pass to Envoy: Envoy fails to load it (BoringSSL: 'BAD_DECRYPT' or a password callback error).", where)
}

// notPEM explains data that holds no PEM block at all.
func notPEM(data []byte, file string) Finding {
	trimmed := bytes.TrimSpace(data)
	if trimmed[0] == 0x30 { // an ASN.1 SEQUENCE: DER
		conv := "openssl x509 -inform der -in file.der -out file.pem"
		if _, err := x509.ParseRevocationList(trimmed); err == nil {
			conv = "openssl crl -inform der -in file.der -out file.pem"
		} else if _, err := x509.ParsePKCS8PrivateKey(trimmed); err == nil {
			conv = "openssl pkey -inform der -in file.der -out file.pem"
		}
		return errorf(CodePEMDER, "Convert it: "+conv+".",
			"%s is DER (binary), not PEM: Envoy expects '-----BEGIN ...' blocks and fails to load it.", file)
	}
	compact := strings.Join(strings.Fields(string(trimmed)), "")
	if dec, err := base64.StdEncoding.DecodeString(compact); err == nil && bytes.Contains(dec, []byte(beginMarker)) {
		return errorf(CodePEMBase64,
			"Decode it once (base64 -d). In a Kubernetes Secret, values under 'data' are base64 and values under 'stringData' are plain PEM.",
			"%s is base64-encoded PEM (encoded twice?): Envoy sees no '-----BEGIN' line and fails to load it.", file)
	}
	return errorf(CodePEMInvalid,
		"Provide PEM: text blocks from '-----BEGIN CERTIFICATE-----' to '-----END CERTIFICATE-----' (or X509 CRL, PRIVATE KEY).",
		"%s holds no PEM block: Envoy fails to load it ('NO_START_LINE').", file)
}
