package irbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// secretsDirNamespace is the namespace segment of secret names for secrets
// from the secrets directory (which have no namespace), so that names keep
// the "kubernetes://<ns>/<name>" shape and never change with the source.
const secretsDirNamespace = "secrets"

// leafCRLSuffix marks a validation secret whose CRL is checked for the leaf
// only: the same CA can then also be used with full-chain CRL checking
// under its plain name.
const leafCRLSuffix = "/leaf-crl"

// caSource is a client or backend CA bundle and its CRL, before it becomes
// a secret.
type caSource struct {
	name     string // secret name (without leafCRLSuffix)
	ca, crl  []byte
	origin   string
	onlyLeaf bool
	obj      *model.Object // where it was referenced, for errors
	path     string
}

// nsSegment is the namespace part of a credential's secret name.
func nsSegment(ns string) string {
	if ns == "" {
		return secretsDirNamespace
	}
	return ns
}

// fileKey is a short content-independent identifier of file paths: the first
// 12 hex digits of the SHA-256 of the NUL-joined paths.
func fileKey(paths ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(paths, "\x00")))
	return hex.EncodeToString(sum[:])[:12]
}

// addSecret registers s once; a second secret of the same name must carry
// the same bytes.
func (b *builder) addSecret(obj *model.Object, path string, s *ir.Secret) string {
	if b.rec != nil { // a fork: the merge registers it (build_parallel.go)
		b.rec.secrets = append(b.rec.secrets, secretEntry{obj: obj, path: path, secret: s})
		return s.Name
	}
	prev, ok := b.secrets[s.Name]
	if !ok {
		b.secrets[s.Name] = s
		return s.Name
	}
	if !sameSecret(prev, s) {
		b.errorf(obj, path, "secret %s from %s differs from the one of the same name from %s", s.Name, s.Origin, prev.Origin)
	}
	return s.Name
}

// sameSecret reports whether two secrets carry the same material.
func sameSecret(a, b *ir.Secret) bool {
	switch {
	case a.Cert != nil && b.Cert != nil:
		return bytes.Equal(a.Cert.CertPEM, b.Cert.CertPEM) && bytes.Equal(a.Cert.KeyPEM, b.Cert.KeyPEM)
	case a.Validation != nil && b.Validation != nil:
		return bytes.Equal(a.Validation.CAPEM, b.Validation.CAPEM) &&
			bytes.Equal(a.Validation.CRLPEM, b.Validation.CRLPEM) &&
			a.Validation.OnlyVerifyLeafCRL == b.Validation.OnlyVerifyLeafCRL
	}
	return false
}

// credentialCert registers the certificate and key of a resolved credential.
func (b *builder) credentialCert(obj *model.Object, path string, cred *model.Credential) (string, bool) {
	if len(cred.Cert) == 0 || len(cred.Key) == 0 {
		b.errorf(obj, path, "secret %q (%s) has no certificate and private key (tls.crt/tls.key or cert/key)", cred.Name, cred.Origin)
		return "", false
	}
	s := &ir.Secret{
		Name:   ir.CertSecretName(nsSegment(cred.Namespace), cred.Name),
		Cert:   &ir.CertKey{CertPEM: cred.Cert, KeyPEM: cred.Key, IssuerPEM: cred.CA},
		Origin: cred.Origin,
	}
	return b.addSecret(obj, path, s), true
}

// errorAt records a resolver error at path, keeping it unwrappable
// (errors.Is(err, model.ErrSecretNotFound)).
func (b *builder) errorAt(obj *model.Object, path string, err error) {
	e := obj.ErrorAt(path, err)
	if k := e.Error(); !b.seenErrs[k] {
		b.seenErrs[k] = true
		b.errs.Add(e)
	}
}

// resolveCert resolves credential name in namespace ns and registers its
// certificate.
func (b *builder) resolveCert(obj *model.Object, path, ns, name string) (string, bool) {
	cred, err := b.cfg.ResolveCredential(ns, name)
	if err != nil {
		b.errorAt(obj, path, err)
		return "", false
	}
	return b.credentialCert(obj, path, cred)
}

// resolveCA resolves the CA of credential name: Istio's "<name>-cacert"
// first, then "<name>"; with direct (caCertCredentialName), the secret
// itself. The secret is named after the requested credential, Istio's
// "kubernetes://<name>-cacert" convention, whichever secret supplied it; the
// CRL comes from the same secret.
func (b *builder) resolveCA(obj *model.Object, path, ns, name string, direct bool) (*caSource, error) {
	resolve := b.cfg.ResolveCACredential
	if direct {
		resolve = b.cfg.ResolveCredential
	}
	cred, err := resolve(ns, name)
	if err != nil {
		return nil, err
	}
	if len(cred.CA) == 0 {
		return nil, &model.ResolveError{Err: model.ErrNoCA, Msg: fmt.Sprintf("secret %q (%s) has no CA: expected key ca.crt or cacert", cred.Name, cred.Origin)}
	}
	return &caSource{
		name: ir.CASecretName(nsSegment(cred.Namespace), strings.TrimSuffix(cred.Name, model.CASuffix)),
		ca:   cred.CA, crl: cred.CRL, origin: cred.Origin, obj: obj, path: path,
	}, nil
}

// file reads a preloaded Istio file field of obj.
func (b *builder) file(obj *model.Object, path, name string) ([]byte, bool) {
	data, ok := b.cfg.File(obj, name)
	if !ok {
		b.errorf(obj, path, "file %q was not loaded", name)
	}
	return data, ok
}

// fileCert registers a certificate and key given as file paths.
func (b *builder) fileCert(obj *model.Object, path, certPath, keyPath string) (string, bool) {
	cert, ok1 := b.file(obj, path, certPath)
	key, ok2 := b.file(obj, path, keyPath)
	if !ok1 || !ok2 {
		return "", false
	}
	s := &ir.Secret{
		Name:   ir.FileSecretName("cert", fileKey(certPath, keyPath)),
		Cert:   &ir.CertKey{CertPEM: cert, KeyPEM: key},
		Origin: "files " + certPath + ", " + keyPath,
	}
	return b.addSecret(obj, path, s), true
}

// fileCA reads a CA bundle and optional CRL given as file paths; nil (with
// an error recorded) when a file is missing.
func (b *builder) fileCA(obj *model.Object, path, caPath, crlPath string) *caSource {
	ca, ok := b.file(obj, path, caPath)
	if !ok {
		return nil
	}
	src := &caSource{
		name: ir.FileSecretName("ca", fileKey(caPath, crlPath)),
		ca:   ca, origin: "file " + caPath, obj: obj, path: path,
	}
	if crlPath != "" {
		if src.crl, ok = b.file(obj, path, crlPath); !ok {
			return nil
		}
		src.origin += ", " + crlPath
	}
	return src
}

// addCASecret registers a CA source as a validation secret and returns its
// name.
func (b *builder) addCASecret(src *caSource) string {
	name := src.name
	if src.onlyLeaf {
		name += leafCRLSuffix
	}
	return b.addSecret(src.obj, src.path, &ir.Secret{
		Name:       name,
		Validation: &ir.Validation{CAPEM: src.ca, CRLPEM: src.crl, OnlyVerifyLeafCRL: src.onlyLeaf},
		Origin:     src.origin,
	})
}
