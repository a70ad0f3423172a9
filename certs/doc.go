// Package certs is a small file-backed PKI for development and tests only.
//
// It makes a root CA (and optionally an intermediate CA), issues server and
// client certificates with random 128-bit serial numbers, records
// revocations and publishes one CRL per CA. A PKI publishes no CRL until one
// is asked for (InitOptions.CRL, WriteCRLs) or something is revoked: a CRL
// expires, and Envoy then rejects every client of its CA. Its
// output is laid out like a mounted Kubernetes Secret written by cert-manager
// (DIR/<name>/tls.crt, tls.key, ca.crt, ca.crl), so a PKI directory can be
// passed to trustgate as --secrets-dir as it is. The PKI's own state (CA keys,
// the issued serials, the revocations) lives in DIR/.pki as a JSON index
// and PEM files.
//
// Keys are stored unencrypted (mode 0600) and the CA is as trustworthy as the
// directory it sits in: never use it for anything but development and tests.
// A PKI directory must not be changed by two callers at once.
//
// Pipeline position: outside the translation pipeline. It produces the files
// that model.Load reads; tests of other packages (examples, e2e) call Init,
// Issue, Revoke and WriteCRLs to make certificates without committed keys.
// It must not import model, xds or go-control-plane.
package certs
