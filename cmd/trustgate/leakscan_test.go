package main

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// pemMarker ends the first line of every PEM private key (PRIVATE KEY,
// EC PRIVATE KEY, RSA PRIVATE KEY, ENCRYPTED PRIVATE KEY).
const pemMarker = "PRIVATE KEY-----"

// privateKey is one private key and the ways it could show up in output.
type privateKey struct {
	file string
	// forms are substrings that only this key's secret part produces: its
	// base64 (as in the PEM body), the base64 of its PEM text at each of
	// the three alignments (as protojson prints inline_bytes), and hex.
	forms map[string]string // encoding -> substring
}

// privateKeys finds every private key in the files under dirs.
func privateKeys(t *testing.T, dirs ...string) []privateKey {
	t.Helper()
	var out []privateKey
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
				if strings.HasSuffix(blk.Type, "PRIVATE KEY") {
					k, err := keyForms(path, pem.EncodeToMemory(blk), blk.Bytes)
					if err != nil {
						return err
					}
					out = append(out, k)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) == 0 {
		t.Fatal("no private keys found: the scan would prove nothing")
	}
	return out
}

// keyForms derives the forms of one key from its secret scalar or exponent:
// the public half of a key also appears in certificates, which are printed
// freely, so only substrings inside the secret part count.
func keyForms(file string, pemText, der []byte) (privateKey, error) {
	secret, err := secretPart(der)
	if err != nil {
		return privateKey{}, fmt.Errorf("%s: %w", file, err)
	}
	at := strings.Index(string(der), string(secret))
	if at < 0 {
		return privateKey{}, fmt.Errorf("%s: the secret part is not in the DER", file)
	}
	k := privateKey{file: file, forms: map[string]string{"hex": hex.EncodeToString(secret)[8:40]}}
	// Base64 of the DER, as the PEM body holds it (lines are joined before
	// searching): only whole 3-byte groups inside the secret.
	body := base64.StdEncoding.EncodeToString(der)
	first, last := (at+2)/3, (at+len(secret))/3
	k.forms["base64"] = body[first*4 : last*4]
	// The same characters in the PEM text, wrapped at 64 columns.
	text := string(pemText)
	bodyStart := strings.IndexByte(text, '\n') + 1
	span := pemSpan(text[bodyStart:], first*4, len(k.forms["base64"]))
	for align := range 3 {
		chunk := span[align:]
		n := len(chunk) / 3 * 3
		k.forms[fmt.Sprintf("base64 of PEM (+%d)", align)] = base64.StdEncoding.EncodeToString([]byte(chunk[:n]))
	}
	return k, nil
}

// pemSpan returns the part of a PEM body (lines of base64) that holds n
// base64 characters after the first skip, with the line breaks between them.
func pemSpan(body string, skip, n int) string {
	from, seen := -1, 0
	for i, r := range body {
		if r == '\n' {
			continue
		}
		if seen == skip {
			from = i
		}
		seen++
		if seen == skip+n {
			return body[from : i+1]
		}
	}
	return body[max(from, 0):]
}

// secretPart is the private scalar (EC) or exponent (RSA) of a DER key.
func secretPart(der []byte) ([]byte, error) {
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
		if key, err = x509.ParseECPrivateKey(der); err != nil {
			if key, err = x509.ParsePKCS1PrivateKey(der); err != nil {
				return nil, err
			}
		}
	}
	var d *big.Int
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		b, err := k.Bytes() // fixed-length, as the DER holds it
		if err != nil {
			return nil, err
		}
		return b, nil
	case *rsa.PrivateKey:
		d = k.D
	default:
		return nil, fmt.Errorf("key type %T", key)
	}
	return d.Bytes(), nil
}

// flatten removes what may split an encoded key in output: whitespace
// (PEM lines, YAML folding) and JSON's escaped line breaks.
func flatten(s string) string {
	s = strings.NewReplacer(`\n`, "", `\r`, "").Replace(s)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// leaks returns what of the keys text shows: the PEM marker, or a key's
// form with its file.
func leaks(keys []privateKey, text string) []string {
	var out []string
	if strings.Contains(text, pemMarker) {
		out = append(out, "a PEM private key marker")
	}
	flat := flatten(text)
	for _, k := range keys {
		for enc, form := range k.forms {
			if strings.Contains(flat, form) || strings.Contains(text, form) {
				out = append(out, fmt.Sprintf("%s (%s)", k.file, enc))
			}
		}
	}
	return out
}
