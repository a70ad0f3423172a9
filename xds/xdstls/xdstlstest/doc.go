// Package xdstlstest makes the certificates of xDS over mutual TLS for
// tests, with the development PKI of package certs: a CA, trustgate's server
// certificate, proxies' client certificates, and gRPC client credentials.
//
// Pipeline position: test support beside xdstls. It must not import the
// model, the IR, the translator or the server.
package xdstlstest
