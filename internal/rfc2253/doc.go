// Package rfc2253 prints a certificate's distinguished name as Envoy prints
// %DOWNSTREAM_PEER_SUBJECT% and %DOWNSTREAM_PEER_ISSUER%: BoringSSL's
// X509_NAME_print_ex with XN_FLAG_RFC2253. It is the one printer of names
// for what trustgate tells users (certs, certcheck), so that a subject
// copied from its output is the string an authorization rule on
// cert.subject must match. The model of Envoy (xds/envoymodel) keeps its
// own, as a judge independent of what it judges.
//
// It imports only the standard library.
package rfc2253
