package model

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/internal/regularfile"
)

// Secret keys, as Istio reads them: the generic names first, then the
// kubernetes.io/tls ones.
const (
	KeyCert    = "cert"
	KeyKey     = "key"
	KeyCACert  = "cacert"
	KeyCRL     = "crl"
	KeyTLSCert = "tls.crt"
	KeyTLSKey  = "tls.key"
	KeyCACrt   = "ca.crt"
	KeyCACrl   = "ca.crl"
)

// secretKeys are the keys trustgate reads, in Istio's order of preference.
var secretKeys = []string{KeyCert, KeyKey, KeyTLSCert, KeyTLSKey, KeyCACert, KeyCACrt, KeyCRL, KeyCACrl}

// Value returns the bytes of key: stringData wins over data, as in
// Kubernetes; data is base64 (an invalid value, reported by Load, reads as
// absent). The certificate, key, CA and CRL keys read as PEM: DER is
// converted (toPEM), since Envoy reads PEM only.
func (s *Secret) Value(key string) ([]byte, bool) {
	b, ok := s.raw(key)
	if ok && isSecretKey(key) {
		b = toPEM(b)
	}
	return b, ok
}

// raw returns the bytes of key as given.
func (s *Secret) raw(key string) ([]byte, bool) {
	if v, ok := s.StringData[key]; ok {
		return []byte(v), true
	}
	if v, ok := s.Data[key]; ok {
		b, err := decodeBase64(v)
		return b, err == nil
	}
	return nil, false
}

// keyPath is the field path of key: "stringData.<key>" or "data.<key>"; for
// secrets-directory entries, just the file name.
func (s *Secret) keyPath(key string) string {
	if s.Metadata.Namespace == "" {
		return key
	}
	if _, ok := s.StringData[key]; ok {
		return "stringData." + key
	}
	return "data." + key
}

// Keys lists the secret's keys, sorted.
func (s *Secret) Keys() []string {
	set := map[string]bool{}
	for k := range s.Data {
		set[k] = true
	}
	for k := range s.StringData {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// first returns the value of the first key present, and that key.
func (s *Secret) first(keys ...string) ([]byte, string) {
	for _, k := range keys {
		if v, ok := s.Value(k); ok {
			return v, k
		}
	}
	return nil, ""
}

// certKeyNames picks the certificate pair as Istio does: cert/key when both
// are present, else tls.crt/tls.key; a lone half is still returned so that
// validation can say what is missing.
func (s *Secret) certKeyNames() (cert, key string) {
	has := func(k string) bool { _, ok := s.raw(k); return ok } // presence: no PEM conversion
	switch {
	case has(KeyCert) && has(KeyKey):
		return KeyCert, KeyKey
	case has(KeyTLSCert) || has(KeyTLSKey):
		return KeyTLSCert, KeyTLSKey
	}
	return KeyCert, KeyKey
}

// material is the secret's certificate, key, CA and CRL.
func (s *Secret) material() (cert, key, ca, crl []byte) {
	ck, kk := s.certKeyNames()
	cert, _ = s.Value(ck)
	key, _ = s.Value(kk)
	ca, _ = s.first(KeyCACert, KeyCACrt)
	crl, _ = s.first(KeyCRL, KeyCACrl)
	return cert, key, ca, crl
}

// Origin says where the secret was defined: "file.yaml:12 Secret ns/name",
// or the secrets-directory entry's directory; Credential.Origin carries it.
func (s *Secret) Origin() string { return s.origin() }

// FromSecretsDir reports whether the secret is a secrets-directory entry
// rather than a Secret document.
func (s *Secret) FromSecretsDir() bool { return s.Metadata.Namespace == "" }

func (s *Secret) origin() string {
	switch {
	case s.Metadata.Namespace == "":
		return s.Pos.File
	case s.Pos.File == "": // from the Kubernetes API
		return s.Ref()
	}
	return s.Pos.File + ":" + strconv.Itoa(s.Pos.Line) + " " + s.Ref()
}

// decodeBase64 decodes Kubernetes Secret data: standard base64, line breaks
// and spaces tolerated (kubectl-generated and hand-wrapped values).
func decodeBase64(v string) ([]byte, error) {
	v = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, v)
	return base64.StdEncoding.DecodeString(v)
}

// checkSecretData reports Secret data values that are not base64.
func (l *loader) checkSecretData() {
	for _, s := range l.cfg.Secrets {
		for _, k := range s.Keys() {
			v, ok := s.Data[k]
			if !ok {
				continue
			}
			if _, err := decodeBase64(v); err != nil {
				l.errs.Add(s.Errorf("data."+k, "value is not valid base64 (%v); use stringData for plain text", err))
			}
		}
	}
}

// loadSecretsDir reads DIR/<name>/<key> files as secrets named <name>,
// following symlinks as a mounted Kubernetes Secret needs (each key is a
// link into the "..data" directory).
func (l *loader) loadSecretsDir(dir string) {
	dir = filepath.Clean(dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		l.fileErr(dir, 0, "secrets directory: %v", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil {
			l.fileErr(p, 0, "secrets directory: %v", err)
			continue
		}
		if !st.IsDir() {
			if isSecretKey(name) {
				l.fileErr(p, 0, "secrets directory holds a key file; expected one sub-directory per secret (%s/<name>/%s)", dir, name)
			}
			continue
		}
		l.loadSecretDir(p, name)
	}
}

func isSecretKey(name string) bool {
	for _, k := range secretKeys {
		if k == name {
			return true
		}
	}
	return false
}

// loadSecretDir reads one secret directory's known keys.
func (l *loader) loadSecretDir(p, name string) {
	s := &Secret{
		Object:     Object{APIVersion: "v1", Kind: "Secret", Metadata: ObjectMeta{Name: name}, Pos: Position{File: p}},
		StringData: map[string]string{},
	}
	for _, k := range secretKeys {
		b, err := regularfile.Read(filepath.Join(p, k), maxFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			l.errs.Add(s.Errorf(k, "%v", err))
			continue
		}
		s.StringData[k] = string(b)
	}
	l.cfg.Secrets = append(l.cfg.Secrets, s)
}
