// Package pembundle is trustgate's one reader of PEM bundles: the files and
// Secret values that hold certificates, CRLs and private keys. It decodes
// every block of a bundle in order and counts the blocks Go's decoder skips,
// parses certificates, CRLs and private keys (in whichever of PKCS#8, PKCS#1
// and SEC 1 they come), and tells what data holding no PEM block is (DER,
// base64 of PEM, base64 of DER).
//
// certcheck builds its diagnosis on it, the model validates and converts
// certificate material with it, and the development PKI (certs), xdstls and
// the server read certificates and CRLs with it. It sits beside the pipeline
// and imports only the standard library.
package pembundle
