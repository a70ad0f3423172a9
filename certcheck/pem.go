package certcheck

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/internal/pembundle"
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
	blocks, malformed := pembundle.Decode(data)
	for i, block := range blocks {
		out = append(out, b.add(block, fmt.Sprintf("%s block %d", file, i+1))...)
	}
	if malformed > 0 {
		out = append(out, errorf(CodePEMInvalid,
			"Re-export the file; check for a truncated copy-paste, a missing '-----END' line, or stray characters inside the base64.",
			"%s: %d of its %d PEM blocks are malformed (bad base64, a missing END line or a damaged header): Envoy fails to load the whole file (e.g. 'Failed to load certificate chain', 'Failed to load trusted CA certificates').",
			file, malformed, malformed+len(blocks)))
	}
	if len(blocks) == 0 && !bytes.Contains(data, []byte(pembundle.BeginMarker)) {
		out = append(out, notPEM(data, file))
	}
	return b, out
}

// add parses one block into the bundle.
func (b *Bundle) add(block *pem.Block, where string) []Finding {
	switch block.Type {
	case pembundle.Cert:
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return []Finding{errorf(CodeCertUnparseable,
				"Re-export the certificate (openssl x509 -in cert.pem -out fixed.pem) and check that it is a certificate, not a request or a key.",
				"%s: the certificate does not parse (%v): Envoy fails to load it.", where, err)}
		}
		b.Certs = append(b.Certs, c)
	case pembundle.CRL:
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return []Finding{errorf(CodeCRLUnparseable,
				"Re-export the CRL from its CA (openssl crl -in ca.crl -out fixed.crl).",
				"%s: the CRL does not parse (%v): Envoy fails with 'Failed to load CRL'.", where, err)}
		}
		b.CRLs = append(b.CRLs, crl)
	case pembundle.PKCS8Key, pembundle.PKCS1Key, pembundle.SEC1Key:
		b.KeyBlocks++
		// Legacy OpenSSL encryption: "Proc-Type: 4,ENCRYPTED" and "DEK-Info".
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return []Finding{encryptedKey(where)}
		}
		key, _, err := pembundle.ParseKey(block.Type, block.Bytes)
		if err != nil {
			return []Finding{errorf(CodeKeyUnparseable,
				"Re-export the key unencrypted as PKCS#8 (openssl pkey -in key.pem -out tls.key).",
				"%s: the %s does not parse (%v): Envoy rejects the secret.", where, block.Type, err)}
		}
		b.Keys = append(b.Keys, key)
	case pembundle.EncryptedKey:
		b.KeyBlocks++
		return []Finding{encryptedKey(where)}
	case pembundle.ECParams:
		// openssl ecparam -genkey writes the curve before the key; harmless.
	default:
		b.Other = append(b.Other, block.Type)
	}
	return nil
}

func encryptedKey(where string) Finding {
	return errorf(CodeKeyEncrypted,
		"Decrypt it: openssl pkey -in encrypted.key -out tls.key (and keep the result private).",
		"%s: the private key is encrypted with a passphrase, which trustgate does not pass to Envoy: Envoy fails to load it (BoringSSL: 'BAD_DECRYPT' or a password callback error).", where)
}

// notPEM explains data that holds no PEM block at all.
func notPEM(data []byte, file string) Finding {
	trimmed := bytes.TrimSpace(data)
	switch pembundle.Classify(data) {
	case pembundle.DER:
		conv := "openssl x509 -inform der -in file.der -out file.pem"
		if _, err := x509.ParseRevocationList(trimmed); err == nil {
			conv = "openssl crl -inform der -in file.der -out file.pem"
		} else if _, err := x509.ParsePKCS8PrivateKey(trimmed); err == nil {
			conv = "openssl pkey -inform der -in file.der -out file.pem"
		}
		return errorf(CodePEMDER, "Convert it: "+conv+".",
			"%s is DER (binary), not PEM: Envoy expects '-----BEGIN ...' blocks and fails to load it.", file)
	case pembundle.Base64PEM:
		return errorf(CodePEMBase64,
			"Decode it once (base64 -d). In a Kubernetes Secret, values under 'data' are base64 and values under 'stringData' are plain PEM.",
			"%s is base64-encoded PEM (encoded twice?): Envoy sees no '-----BEGIN' line and fails to load it.", file)
	}
	return errorf(CodePEMInvalid,
		"Provide PEM: text blocks from '-----BEGIN CERTIFICATE-----' to '-----END CERTIFICATE-----' (or X509 CRL, PRIVATE KEY).",
		"%s holds no PEM block: Envoy fails to load it ('NO_START_LINE').", file)
}
