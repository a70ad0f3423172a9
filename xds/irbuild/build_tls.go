package irbuild

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// tlsVersions maps Istio's protocol version enum to Envoy's.
var tlsVersions = map[string]string{
	"TLS_AUTO": "",
	"TLSV1_0":  "TLSv1_0",
	"TLSV1_1":  "TLSv1_1",
	"TLSV1_2":  "TLSv1_2",
	"TLSV1_3":  "TLSv1_3",
}

// downstreamTLS builds the TLS context of terminating server s and picks its
// client CA (MUTUAL and OPTIONAL_MUTUAL); the CA secret is registered later,
// once ClientCertificatePolicies may have replaced it.
func (b *builder) downstreamTLS(s *serverRef, http bool) (*ir.DownstreamTLS, *caSource) {
	t, obj, path := s.srv.TLS, &s.gw.Object, s.path+".tls"
	out := &ir.DownstreamTLS{
		Mode:         ir.TLSMode(s.mode),
		CipherSuites: t.CipherSuites,
		MinVersion:   b.tlsVersion(obj, path, ".minProtocolVersion", t.MinProtocolVersion),
		MaxVersion:   b.tlsVersion(obj, path, ".maxProtocolVersion", t.MaxProtocolVersion),
		CertSecrets:  b.serverCerts(s),
	}
	if http {
		out.ALPN = []string{"h2", "http/1.1"}
	}
	if out.Mode == ir.TLSSimple {
		if len(t.SubjectAltNames)+len(t.VerifyCertificateSpki)+len(t.VerifyCertificateHash) > 0 {
			b.warnf(obj, path+".mode", "SIMPLE requests no client certificate: subjectAltNames and verifyCertificate* are ignored")
		}
		return out, nil
	}
	out.SubjectAltNames = serverSANs(t.SubjectAltNames)
	out.SPKI = t.VerifyCertificateSpki
	out.CertHashes = t.VerifyCertificateHash
	return out, b.serverCA(s)
}

// tlsVersion converts an Istio protocol version ("TLSV1_2") to Envoy's
// ("TLSv1_2"); TLS_AUTO and "" are Envoy's default.
// The field's path is path+field, joined only for an error: most servers
// set no version, and the join was two allocations per server per build.
func (b *builder) tlsVersion(obj *model.Object, path, field, v string) string {
	if v == "" {
		return "" // unset: as before, no version and no error
	}
	out, ok := tlsVersions[strings.ToUpper(v)]
	if !ok {
		b.errorf(obj, path+field, "unknown TLS version %q (TLS_AUTO, TLSV1_0 … TLSV1_3)", v)
	}
	return out
}

// serverCerts registers the certificates of server s: credentialNames (one
// per key type), credentialName, or serverCertificate and privateKey files.
func (b *builder) serverCerts(s *serverRef) []string {
	t, obj, path := s.srv.TLS, &s.gw.Object, s.path+".tls"
	ns := s.gw.Metadata.Namespace
	var out []string
	switch {
	case len(t.CredentialNames) > 0:
		for i, name := range t.CredentialNames {
			if n, ok := b.resolveCert(obj, path+".credentialNames["+itoa(i)+"]", ns, name); ok {
				out = append(out, n)
			}
		}
	case t.CredentialName != "":
		if n, ok := b.resolveCert(obj, path+".credentialName", ns, t.CredentialName); ok {
			out = append(out, n)
		}
	case t.ServerCertificate != "" && t.PrivateKey != "":
		if n, ok := b.fileCert(obj, path+".serverCertificate", t.ServerCertificate, t.PrivateKey); ok {
			out = append(out, n)
		}
	default:
		b.errorf(obj, path, "a certificate is required: credentialName, credentialNames, or serverCertificate and privateKey")
	}
	return out
}

// serverCA picks the client CA of server s: caCertCredentialName (the CA of
// that secret itself, as Istio reads it), else the
// CA of its (first) credential ("<name>-cacert", then "<name>"), else the
// caCertificates file with caCrl.
func (b *builder) serverCA(s *serverRef) *caSource {
	t, obj, path := s.srv.TLS, &s.gw.Object, s.path+".tls"
	ns := s.gw.Metadata.Namespace
	cred, credPath, direct := t.CredentialName, path+".credentialName", false
	if len(t.CredentialNames) > 0 {
		cred, credPath = t.CredentialNames[0], path+".credentialNames[0]"
	}
	switch {
	case t.CACertCredentialName != "":
		cred, credPath, direct = t.CACertCredentialName, path+".caCertCredentialName", true
	case cred == "" && t.CACertificates != "":
		return b.fileCA(obj, path+".caCertificates", t.CACertificates, t.CACrl)
	case cred == "":
		b.errorf(obj, path+".mode", "%s requires a client CA: caCertCredentialName, a credential with ca.crt (or a <name>-cacert secret), or caCertificates", s.mode)
		return nil
	}
	src, err := b.resolveCA(obj, credPath, ns, cred, direct)
	if err != nil {
		b.errorAt(obj, credPath, fmt.Errorf("%s needs a client CA: %w", s.mode, err))
		return nil
	}
	return src
}

// serverSANs converts Istio's untyped server subjectAltNames. Istio's
// deprecated untyped matcher matched any SAN type, so each value matches
// DNS and URI SANs, and also IP_ADDRESS when it parses as an IP and EMAIL
// when it contains '@'.
func serverSANs(values []string) []ir.SANMatch {
	var out []ir.SANMatch
	for _, v := range values {
		m := ir.StringMatch{Exact: v}
		out = append(out, ir.SANMatch{Type: ir.SANDNS, Match: m}, ir.SANMatch{Type: ir.SANURI, Match: m})
		if _, err := netip.ParseAddr(v); err == nil {
			out = append(out, ir.SANMatch{Type: ir.SANIP, Match: m})
		}
		if strings.Contains(v, "@") {
			out = append(out, ir.SANMatch{Type: ir.SANEmail, Match: m})
		}
	}
	return out
}
