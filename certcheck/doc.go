// Package certcheck diagnoses certificate material the way an expert would:
// serving certificates and keys, client and upstream CA bundles, CRLs and
// certificate pins, each finding saying what is wrong, what error the mistake
// causes in the wild (Envoy, OpenSSL, Go, curl, browsers), and how to fix it.
//
// It works on PEM bytes only and is pure: the current time is passed in, and
// the same input always gives the same findings in the same order.
//
// Pipeline position: beside the pipeline. Package pipeline calls it on every
// secret a proxy group uses, in the role it is used in (what `trustgate
// check` prints and `serve` logs), the server may export Expiry as a metric,
// and `trustgate certs` output is meant to pass it cleanly. It must
// not import model, xds or go-control-plane: only the standard library and
// internal/pembundle, which reads the PEM it diagnoses.
package certcheck
