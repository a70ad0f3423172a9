package model

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/trustgate/trustgate/internal/pembundle"
)

// Certificate material reaches Envoy as PEM only: its default validator
// reads trusted_ca and crl with PEM_X509_INFO_read_bio
// (source/common/tls/cert_validator/default_validator.cc, parseCaCertList
// and parseCrlList), and the certificate chain and private key with
// PEM_read_bio_X509_AUX and PEM_read_bio_PrivateKey (TlsContext::
// loadCertificateChain and loadPrivateKey, source/common/tls/context_impl.cc).
// DER bytes in an inline SDS secret fail there ("Failed to load CRL",
// "Failed to load trusted CA certificates"). Downloaded CRLs and Windows
// exports are usually DER, so Load converts them: toPEM is the one reader of
// certificate material, applied to Secret values, secrets-directory files and
// the files Istio's file fields name.

// oidSignedData is PKCS#7 signedData (RFC 2315), the container of .p7b and
// .p7c certificate bundles.
var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// toPEM returns certificate material as PEM. PEM is returned unchanged,
// except that PKCS#7 blocks ("-----BEGIN PKCS7-----") are replaced by the
// certificates and CRLs they carry. DER (one certificate, CRL or private key,
// several concatenated, or a PKCS#7 bundle) is converted block by block.
// Anything else, or DER that does not parse, is returned unchanged for
// validation to report with derHint.
func toPEM(data []byte) []byte {
	if bytes.Contains(data, []byte(pembundle.BeginMarker)) {
		return expandPKCS7Blocks(data)
	}
	if out, err := derToPEM(data); err == nil {
		return out
	}
	return data
}

// derToPEM converts a sequence of DER objects; it fails unless every one is
// a certificate, a CRL, a private key or a PKCS#7 bundle. Whitespace after
// the last object (a newline an editor added) is ignored; bytes of that
// value inside an object are its own (a signature may end in 0x0a).
func derToPEM(data []byte) ([]byte, error) {
	rest := data
	if len(bytes.TrimSpace(rest)) == 0 || rest[0] != 0x30 { // an ASN.1 SEQUENCE
		return nil, errors.New("not DER")
	}
	var out []byte
	for len(bytes.TrimRight(rest, " \t\r\n")) > 0 {
		var raw asn1.RawValue
		next, err := asn1.Unmarshal(rest, &raw)
		if err != nil {
			return nil, err
		}
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence || !raw.IsCompound {
			return nil, fmt.Errorf("a DER object is not a SEQUENCE (tag %d)", raw.Tag)
		}
		blocks, err := derBlocks(raw.FullBytes)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			out = append(out, pem.EncodeToMemory(b)...)
		}
		rest = next
	}
	return out, nil
}

// derBlocks names one DER object by parsing it.
func derBlocks(der []byte) ([]*pem.Block, error) {
	_, certErr := x509.ParseCertificate(der)
	if certErr == nil {
		return []*pem.Block{{Type: pembundle.Cert, Bytes: der}}, nil
	}
	if _, err := x509.ParseRevocationList(der); err == nil {
		return []*pem.Block{{Type: pembundle.CRL, Bytes: der}}, nil
	}
	if blocks, err := pkcs7Blocks(der); err == nil {
		return blocks, nil
	}
	if _, format, err := pembundle.ParseKey(pembundle.PKCS8Key, der); err == nil {
		return []*pem.Block{{Type: format, Bytes: der}}, nil
	}
	return nil, fmt.Errorf("neither a certificate, a CRL, a PKCS#7 bundle nor a private key (as a certificate: %v)", certErr)
}

// pkcs7 is the part of a PKCS#7 signedData (RFC 2315 9.1) that carries
// certificates and CRLs.
type pkcs7 struct {
	ContentType asn1.ObjectIdentifier
	Content     struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		ContentInfo      asn1.RawValue
		Certificates     asn1.RawValue `asn1:"optional,tag:0"`
		CRLs             asn1.RawValue `asn1:"optional,tag:1"`
		SignerInfos      asn1.RawValue
	} `asn1:"explicit,tag:0"`
}

// pkcs7Blocks returns the certificates and CRLs of a DER PKCS#7 bundle.
func pkcs7Blocks(der []byte) ([]*pem.Block, error) {
	var p pkcs7
	if _, err := asn1.Unmarshal(der, &p); err != nil {
		return nil, err
	}
	if !p.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("PKCS#7 content type %v is not signedData", p.ContentType)
	}
	var out []*pem.Block
	for _, set := range []struct {
		raw  asn1.RawValue
		typ  string
		ok   func([]byte) error
		what string
	}{
		{p.Content.Certificates, pembundle.Cert, func(d []byte) error { _, err := x509.ParseCertificate(d); return err }, "certificate"},
		{p.Content.CRLs, pembundle.CRL, func(d []byte) error { _, err := x509.ParseRevocationList(d); return err }, "CRL"},
	} {
		for rest := set.raw.Bytes; len(rest) > 0; {
			var item asn1.RawValue
			next, err := asn1.Unmarshal(rest, &item)
			if err != nil {
				return nil, err
			}
			if err := set.ok(item.FullBytes); err != nil {
				return nil, fmt.Errorf("PKCS#7 %s: %w", set.what, err)
			}
			out = append(out, &pem.Block{Type: set.typ, Bytes: item.FullBytes})
			rest = next
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the PKCS#7 bundle holds no certificate or CRL")
	}
	return out, nil
}

// expandPKCS7Blocks replaces each PEM PKCS7 block by the certificates and
// CRLs it holds; other text is kept as it is. A block that does not parse
// is kept, for validation to report.
func expandPKCS7Blocks(data []byte) []byte {
	begin := []byte(pembundle.BeginMarker + pembundle.PKCS7 + "-----")
	if !bytes.Contains(data, begin) {
		return data
	}
	var out []byte
	for rest := data; ; {
		i := bytes.Index(rest, begin)
		if i < 0 {
			return append(out, rest...)
		}
		out = append(out, rest[:i]...)
		block, next := pem.Decode(rest[i:])
		if block == nil {
			return append(out, rest[i:]...)
		}
		blocks, err := pkcs7Blocks(block.Bytes)
		if err != nil {
			out = append(out, rest[i:len(rest)-len(next)]...)
		}
		for _, b := range blocks {
			out = append(out, pem.EncodeToMemory(b)...)
		}
		rest = next
	}
}

// derHint explains material that holds no PEM block and could not be
// converted: DER that does not parse, base64 of PEM or of DER. It returns
// "" for anything else.
func derHint(data []byte) string {
	switch pembundle.Classify(data) {
	case pembundle.DER:
		_, err := derToPEM(data)
		return fmt.Sprintf(" (the data is binary DER that trustgate could not read: %v; convert it to PEM with "+
			"'openssl x509 -inform der -in F -out F.pem', 'openssl crl -inform der ...' for a CRL, "+
			"'openssl pkcs7 -inform der -print_certs ...' for a .p7b bundle, or 'openssl pkey -inform der ...' for a key)", err)
	case pembundle.Base64PEM:
		return " (the value is base64 of PEM, encoded twice: a Secret's data values are base64 once, and stringData values are plain PEM)"
	case pembundle.Base64DER:
		return " (the value is base64 without PEM armour: put it between '-----BEGIN CERTIFICATE-----' and '-----END CERTIFICATE-----' lines (X509 CRL for a CRL), or give the binary DER file)"
	}
	return ""
}
