package model

import (
	"fmt"
	"net/netip"
	"strings"
)

// Server protocols trustgate serves.
var serverProtocols = []string{"HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB", "TLS", "TCP"}

// Server TLS modes.
var (
	serverTLSModes    = []string{"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL", "PASSTHROUGH"}
	rejectedTLSModes  = map[string]string{"ISTIO_MUTUAL": "it has no mesh identity", "AUTO_PASSTHROUGH": "it has no mesh identity"}
	tlsVersions       = []string{"TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"}
	tlsVersionOrdinal = map[string]int{"TLSV1_0": 0, "TLSV1_1": 1, "TLSV1_2": 2, "TLSV1_3": 3}
)

// cipherSuites are the TLS 1.2 cipher names BoringSSL (and so Envoy)
// accepts; an unknown name makes Envoy reject the whole listener (NACK).
var cipherSuites = map[string]bool{
	"ECDHE-ECDSA-AES128-GCM-SHA256": true, "ECDHE-RSA-AES128-GCM-SHA256": true,
	"ECDHE-ECDSA-AES256-GCM-SHA384": true, "ECDHE-RSA-AES256-GCM-SHA384": true,
	"ECDHE-ECDSA-CHACHA20-POLY1305": true, "ECDHE-RSA-CHACHA20-POLY1305": true,
	"ECDHE-PSK-CHACHA20-POLY1305": true,
	"ECDHE-ECDSA-AES128-SHA":      true, "ECDHE-RSA-AES128-SHA": true,
	"ECDHE-ECDSA-AES256-SHA": true, "ECDHE-RSA-AES256-SHA": true,
	"ECDHE-PSK-AES128-CBC-SHA": true, "ECDHE-PSK-AES256-CBC-SHA": true,
	"AES128-GCM-SHA256": true, "AES256-GCM-SHA384": true,
	"AES128-SHA": true, "AES256-SHA": true,
	"PSK-AES128-CBC-SHA": true, "PSK-AES256-CBC-SHA": true,
	"DES-CBC3-SHA": true,
}

func (v *validator) gateway(g *Gateway) {
	o := &g.Object
	if len(g.Spec.Servers) == 0 {
		v.errorf(o, "spec.servers", "at least one server is required")
	}
	names := map[string]int{}
	for i := range g.Spec.Servers {
		s := &g.Spec.Servers[i]
		p := fmt.Sprintf("spec.servers[%d]", i)
		v.server(g, s, p)
		if s.Name == "" {
			continue
		}
		if j, dup := names[s.Name]; dup {
			v.errorf(o, p+".name", "server name %q is also used by spec.servers[%d]", s.Name, j)
		} else {
			names[s.Name] = i
		}
	}
}

func (v *validator) server(g *Gateway, s *Server, p string) {
	o := &g.Object
	if !validPort(s.Port.Number) {
		v.errorf(o, p+".port.number", "port number %d is not between 1 and 65535", s.Port.Number)
	}
	if s.Port.Protocol == "" {
		v.errorf(o, p+".port.protocol", "protocol is required (%s)", strings.Join(serverProtocols, ", "))
	} else if err := enum(s.Port.Protocol, serverProtocols, nil); err != nil {
		v.errorf(o, p+".port.protocol", "protocol %v", err)
	}
	if s.Bind != "" {
		if _, err := netip.ParseAddr(s.Bind); err != nil {
			v.errorf(o, p+".bind", "bind %q is not an IP address", s.Bind)
		}
	}
	if len(s.Hosts) == 0 {
		v.errorf(o, p+".hosts", "at least one host is required")
	}
	for j, h := range s.Hosts {
		if err := checkGatewayHost(h); err != nil {
			v.errorf(o, fmt.Sprintf("%s.hosts[%d]", p, j), "%v", err)
		}
	}
	v.serverTLS(g, s, p)
}

// onlyRedirect reports whether t sets nothing but httpsRedirect.
func onlyRedirect(t *ServerTLSSettings) bool {
	u := *t
	u.HTTPSRedirect = false
	return u.Mode == "" && u.ServerCertificate == "" && u.PrivateKey == "" && u.CACertificates == "" &&
		u.CACrl == "" && u.CredentialName == "" && len(u.CredentialNames) == 0 && u.CACertCredentialName == "" &&
		len(u.SubjectAltNames) == 0 && len(u.VerifyCertificateSpki) == 0 && len(u.VerifyCertificateHash) == 0 &&
		u.MinProtocolVersion == "" && u.MaxProtocolVersion == "" && len(u.CipherSuites) == 0
}

// hasCertSource reports whether t names a server certificate.
func hasCertSource(t *ServerTLSSettings) bool {
	return t.CredentialName != "" || len(t.CredentialNames) > 0 || t.ServerCertificate != "" || t.PrivateKey != ""
}

func (v *validator) serverTLS(g *Gateway, s *Server, p string) {
	o, t, tp := &g.Object, s.TLS, p+".tls"
	proto := strings.ToUpper(s.Port.Protocol)
	switch {
	case (proto == "HTTPS" || proto == "TLS") && t == nil:
		v.errorf(o, p, "protocol %s requires tls", s.Port.Protocol)
		return
	case t == nil:
		return
	case proto != "HTTPS" && proto != "TLS":
		if !onlyRedirect(t) {
			v.errorf(o, tp, "TLS settings need protocol HTTPS or TLS (an HTTP server may set only httpsRedirect)")
		}
		return
	}
	if t.Mode != "" {
		if err := enum(t.Mode, serverTLSModes, rejectedTLSModes); err != nil {
			v.errorf(o, tp+".mode", "tls.mode %v", err)
			return
		}
	}
	v.tlsParams(o, tp, t.MinProtocolVersion, t.MaxProtocolVersion, t.CipherSuites)
	switch mode := strings.ToUpper(t.Mode); mode {
	case "", "PASSTHROUGH":
		if hasCertSource(t) {
			why := "PASSTHROUGH does not terminate TLS, so the certificate is ignored"
			if mode == "" {
				why = "tls.mode is not set, so Istio's default PASSTHROUGH applies and the certificate is ignored; set mode: SIMPLE, MUTUAL or OPTIONAL_MUTUAL"
			}
			v.errorf(o, tp+".mode", "%s", why)
		}
	default:
		v.terminatingTLS(g, s, tp, mode)
	}
}

// tlsParams checks protocol versions and cipher suites.
func (v *validator) tlsParams(o *Object, tp, minV, maxV string, ciphers []string) {
	for _, f := range []struct{ name, value string }{{"minProtocolVersion", minV}, {"maxProtocolVersion", maxV}} {
		if f.value != "" {
			if err := enum(f.value, tlsVersions, nil); err != nil {
				v.errorf(o, tp+"."+f.name, "%v", err)
			}
		}
	}
	v.tlsVersionRange(o, tp, minV, maxV, ciphers)
	seen := map[string]bool{}
	for i, c := range ciphers {
		path := fmt.Sprintf("%s.cipherSuites[%d]", tp, i)
		if seen[c] {
			v.errorf(o, path, "cipher suite %q is listed twice", c)
		}
		seen[c] = true
		if err := checkCipher(c); err != nil {
			v.errorf(o, path, "%v", err)
		}
	}
}

// checkCipher checks one cipher-list entry: a name, or an equal-preference
// group "[A|B]".
func checkCipher(c string) error {
	names := []string{c}
	if strings.HasPrefix(c, "[") && strings.HasSuffix(c, "]") {
		names = strings.Split(c[1:len(c)-1], "|")
	}
	for _, n := range names {
		switch {
		case cipherSuites[n]:
		case strings.HasPrefix(n, "TLS_"):
			return fmt.Errorf("cipher suite %q: use OpenSSL names (ECDHE-RSA-AES128-GCM-SHA256); TLS 1.3 suites are not configurable in Envoy", n)
		default:
			return fmt.Errorf("cipher suite %q is not known to BoringSSL; Envoy would reject the listener", n)
		}
	}
	return nil
}

// terminatingTLS checks a SIMPLE, MUTUAL or OPTIONAL_MUTUAL server: one
// certificate source that resolves, a client CA for the mutual modes, and
// the CRL rules Istio applies.
func (v *validator) terminatingTLS(g *Gateway, s *Server, tp, mode string) {
	o, t, ns := &g.Object, s.TLS, g.Metadata.Namespace
	mutual := mode != "SIMPLE"
	sources := 0
	for _, set := range []bool{t.CredentialName != "", len(t.CredentialNames) > 0, t.ServerCertificate != "" || t.PrivateKey != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources == 0:
		v.errorf(o, tp, "%s needs a certificate: set credentialName, credentialNames, or serverCertificate and privateKey", mode)
	case sources > 1:
		v.errorf(o, tp, "set only one of credentialName, credentialNames, and serverCertificate with privateKey")
	}
	certOK := true
	if t.CredentialName != "" {
		certOK = v.certCredential(o, tp+".credentialName", ns, t.CredentialName)
	}
	if len(t.CredentialNames) > 2 {
		v.errorf(o, tp+".credentialNames", "at most 2 credentialNames (one RSA, one ECDSA); got %d", len(t.CredentialNames))
	}
	seen := map[string]bool{}
	for i, n := range t.CredentialNames {
		path := fmt.Sprintf("%s.credentialNames[%d]", tp, i)
		if seen[n] {
			v.errorf(o, path, "credential %q is listed twice", n)
		}
		seen[n] = true
		certOK = v.certCredential(o, path, ns, n) && certOK
	}
	v.certFiles(o, tp, t.ServerCertificate, "serverCertificate", t.PrivateKey)
	fromSecret := t.CredentialName != "" || len(t.CredentialNames) > 0
	if fromSecret && t.CACertificates != "" {
		v.errorf(o, tp+".caCertificates", "caCertificates cannot be used with credentialName: the CA comes from the secret (key ca.crt) or from secret \"<name>-cacert\"")
	}
	if t.CACrl != "" {
		switch {
		case !mutual:
			v.errorf(o, tp+".caCrl", "caCrl needs tls.mode MUTUAL or OPTIONAL_MUTUAL")
		case fromSecret:
			v.errorf(o, tp+".caCrl", "caCrl cannot be used with credentialName: the CRL comes from the secret (key ca.crl)")
		default:
			v.pemFile(o, tp+".caCrl", t.CACrl, pemCRL)
		}
	}
	if t.CACertificates != "" && !fromSecret {
		v.pemFile(o, tp+".caCertificates", t.CACertificates, pemCert)
	}
	if mutual {
		v.clientCA(g, s, tp, certOK)
	} else {
		v.noClientChecks(o, tp, mode, map[string]bool{
			"subjectAltNames": len(t.SubjectAltNames) > 0, "verifyCertificateSpki": len(t.VerifyCertificateSpki) > 0,
			"verifyCertificateHash": len(t.VerifyCertificateHash) > 0, "caCertCredentialName": t.CACertCredentialName != "",
			"caCertificates": t.CACertificates != "" && !fromSecret,
		})
	}
	v.pins(o, tp, t.VerifyCertificateSpki, t.VerifyCertificateHash)
}

// clientCA checks that a mutual server has a client CA: caCertificates,
// caCertCredentialName, the credential's CA (<name>-cacert, else <name>),
// or a ClientCertificatePolicy's clientCA. certOK is false when the
// certificate credential already failed to resolve (one error is enough).
func (v *validator) clientCA(g *Gateway, s *Server, tp string, certOK bool) {
	o, t, ns := &g.Object, s.TLS, g.Metadata.Namespace
	if t.CACertCredentialName != "" {
		path := tp + ".caCertCredentialName"
		if t.CACertificates != "" {
			v.errorf(o, path, "set only one of caCertCredentialName and caCertificates")
		}
		cr, err := v.c.ResolveCredential(ns, t.CACertCredentialName)
		switch {
		case err != nil:
			v.errs.Add(o.ErrorAt(path, err))
		case len(cr.CA) == 0:
			v.errs.Add(o.ErrorAt(path, &ResolveError{Err: ErrNoCA, Msg: fmt.Sprintf(
				"secret %q (%s) has no CA: expected key ca.crt or cacert", cr.Name, cr.Origin)}))
		}
		return
	}
	if t.CACertificates != "" || v.policyClientCA(g, s) || !certOK {
		return
	}
	name, path := t.CredentialName, tp+".credentialName"
	if name == "" && len(t.CredentialNames) > 0 {
		// Istio takes the CA from the first of credentialNames.
		name, path = t.CredentialNames[0], tp+".credentialNames[0]"
	}
	if name == "" {
		if t.ServerCertificate != "" || t.PrivateKey != "" {
			v.errorf(o, tp+".caCertificates", "%s needs caCertificates: the CA that signs client certificates", t.Mode)
		}
		return
	}
	if _, err := v.c.ResolveCACredential(ns, name); err != nil {
		v.errs.Add(o.ErrorAt(path, fmt.Errorf("%s needs a client CA: %w", t.Mode, err)))
	}
}

// noClientChecks reports client-certificate checks on a server that asks
// for no client certificate: they would silently check nothing.
func (v *validator) noClientChecks(o *Object, tp, mode string, set map[string]bool) {
	for _, name := range []string{"caCertificates", "caCertCredentialName", "subjectAltNames", "verifyCertificateSpki", "verifyCertificateHash"} {
		if set[name] {
			v.errorf(o, tp+"."+name, "%s is for client certificates, which tls.mode %s does not request; use MUTUAL or OPTIONAL_MUTUAL", name, mode)
		}
	}
}

// pins checks SPKI and certificate-hash pins.
func (v *validator) pins(o *Object, p string, spki, hashes []string) {
	for i, s := range spki {
		if err := checkSPKI(s); err != nil {
			v.errorf(o, fmt.Sprintf("%s.verifyCertificateSpki[%d]", p, i), "%v", err)
		}
	}
	for i, h := range hashes {
		if err := checkCertHash(h); err != nil {
			v.errorf(o, fmt.Sprintf("%s.verifyCertificateHash[%d]", p, i), "%v", err)
		}
	}
}

// certCredential resolves a certificate secret and checks it holds a
// certificate and key; it reports whether it resolved.
func (v *validator) certCredential(o *Object, path, ns, name string) bool {
	cr, err := v.c.ResolveCredential(ns, name)
	if err != nil {
		v.errs.Add(o.ErrorAt(path, err))
		return false
	}
	if len(cr.Cert) == 0 || len(cr.Key) == 0 {
		v.errorf(o, path, "secret %q (%s) has no certificate and key: expected keys tls.crt and tls.key (or cert and key)", name, cr.Origin)
	}
	return true
}

// certFiles checks a file-based certificate pair: both halves, PEM.
func (v *validator) certFiles(o *Object, p, cert, certField, key string) {
	switch {
	case cert != "" && key == "":
		v.errorf(o, p+".privateKey", "privateKey is required with %s", certField)
	case cert == "" && key != "":
		v.errorf(o, p+"."+certField, "%s is required with privateKey", certField)
	}
	if cert != "" {
		v.pemFile(o, p+"."+certField, cert, pemCert)
	}
	if key != "" {
		v.pemFile(o, p+".privateKey", key, pemKey)
	}
}

// pemFile checks the PEM in a file read by Load (a missing file was
// reported there).
func (v *validator) pemFile(o *Object, path, file, want string) {
	if b, ok := v.c.File(o, file); ok {
		if err := checkPEM(b, want); err != nil {
			v.errorf(o, path, "%s: %v", file, err)
		}
	}
}
