package envoymodel

import (
	"crypto/x509"
	"fmt"
	"strings"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// handshake is the outcome of the downstream TLS handshake.
type handshake struct {
	failed    string // why the handshake failed ("" when it passed)
	cert      CertVerdict
	presented bool
	validated bool
	resumed   bool
	peer      *peerCert
	version   string
	steps     []Step
}

// step records one step of the handshake.
func (h *handshake) step(text, source string) {
	h.steps = append(h.steps, Step{Stage: "tls", Text: text, Source: source})
}

// tlsVersion names a TLS protocol enum as %DOWNSTREAM_TLS_VERSION% prints.
var tlsVersionNames = map[tlsv3.TlsParameters_TlsProtocol]string{
	tlsv3.TlsParameters_TLSv1_0: "TLSv1", tlsv3.TlsParameters_TLSv1_1: "TLSv1.1",
	tlsv3.TlsParameters_TLSv1_2: "TLSv1.2", tlsv3.TlsParameters_TLSv1_3: "TLSv1.3",
}

// negotiate picks the protocol version, assuming a client that offers TLS
// 1.2 and 1.3. A server's defaults are 1.2 to 1.3
// (source/common/tls/server_context_config_impl.cc, DEFAULT_MIN_VERSION and
// DEFAULT_MAX_VERSION); a range that excludes both fails every handshake.
func negotiate(p *tlsv3.TlsParameters) (string, error) {
	lo, hi := p.GetTlsMinimumProtocolVersion(), p.GetTlsMaximumProtocolVersion()
	if lo == tlsv3.TlsParameters_TLS_AUTO {
		lo = tlsv3.TlsParameters_TLSv1_2
	}
	if hi == tlsv3.TlsParameters_TLS_AUTO {
		hi = tlsv3.TlsParameters_TLSv1_3
	}
	if lo > hi {
		return "", fmt.Errorf("the minimum protocol version %s is above the maximum %s: BoringSSL refuses every handshake (curl: \"no protocols available\")", tlsVersionNames[lo], tlsVersionNames[hi])
	}
	if hi < tlsv3.TlsParameters_TLSv1_2 {
		return "", fmt.Errorf("the server speaks at most %s; a current client offers TLS 1.2 and 1.3 (curl: \"tlsv1 alert protocol version\")", tlsVersionNames[hi])
	}
	return tlsVersionNames[hi], nil
}

// resumable says whether a session on this chain can be resumed at all
// (source/common/tls/server_context_impl.cc, ServerContextImpl:
// disable_stateless_session_resumption sets SSL_OP_NO_TICKET,
// disable_stateful_session_resumption turns the session cache off; the
// cache only serves TLS 1.2 and below).
func resumable(ctx *tlsv3.DownstreamTlsContext, version string) bool {
	if !ctx.GetDisableStatelessSessionResumption() {
		return true
	}
	return !ctx.GetDisableStatefulSessionResumption() && version != "TLSv1.3"
}

// doHandshake runs the server side of the handshake on a chain's
// DownstreamTlsContext.
func (m *Model) doHandshake(ctx *tlsv3.DownstreamTlsContext, conn *Connection) *handshake {
	h := &handshake{cert: CertNone}
	common := ctx.GetCommonTlsContext()
	for _, s := range common.GetTlsCertificateSdsSecretConfigs() {
		if sec, ok := m.secrets[s.GetName()]; !ok || sec.GetTlsCertificate() == nil {
			h.failed = fmt.Sprintf("server certificate secret %q has not arrived: Envoy resets the connection (curl: \"Connection reset by peer\")", s.GetName())
			return h
		}
	}
	version, err := negotiate(common.GetTlsParams())
	if err != nil {
		h.failed = err.Error()
		return h
	}
	h.version = version
	h.step("negotiated "+version, "source/common/tls/server_context_config_impl.cc")
	v, err := m.downstreamValidation(ctx)
	if err != nil {
		h.failed = err.Error()
		return h
	}
	if conn.Resumed {
		if resumable(ctx, version) {
			h.resumed = true
		} else {
			h.step("the client offers a session to resume, but session resumption is disabled on this chain: full handshake", "source/common/tls/server_context_impl.cc, ServerContextImpl")
		}
	}
	m.clientCertificate(h, ctx, v, conn)
	return h
}

// clientCertificate decides the client certificate's fate: requested or
// not, required or not, verified. The verify mode follows
// DefaultCertValidator::initializeSslContexts (a trusted CA asks for a
// certificate; SAN matchers or pins also require one) and
// addClientValidationContext (require_client_certificate requires one, but
// only when a trusted CA is set).
func (m *Model) clientCertificate(h *handshake, ctx *tlsv3.DownstreamTlsContext, v *validation, conn *Connection) {
	request := v.hasCA || v.sanOrPin
	require := v.sanOrPin || (v.hasCA && ctx.GetRequireClientCertificate().GetValue())
	const src = "source/common/tls/cert_validator/default_validator.cc, DefaultCertValidator::initializeSslContexts"
	switch {
	case !request:
		h.step("the server does not ask for a client certificate (no validation context)", src)
		return
	case len(conn.ClientChain) == 0 && require:
		h.cert = CertNone
		h.failed = "the client sent no certificate and this chain requires one: TLS alert certificate_required (curl: \"tlsv13 alert certificate required\"; Envoy: ssl.fail_verify_no_cert)"
		return
	case len(conn.ClientChain) == 0:
		h.step("no client certificate; the chain does not require one", src)
		return
	}
	h.presented = true
	h.peer = m.peerCert(conn.ClientChain[0])
	if reason := m.verifyPeer(v, conn); reason != "" {
		h.cert = CertRejected
		if h.resumed {
			// A session resumes only under the validation settings it was
			// made with (DefaultCertValidator::updateDigestForSessionId
			// hashes CA, CRL, SAN matchers, pins and depth into the session
			// id context), so a certificate that fails today cannot be
			// resumed: the server falls back to a full handshake.
			h.step("no session to resume: this certificate fails the chain's current validation, so the server does a full handshake", "source/common/tls/cert_validator/default_validator.cc, DefaultCertValidator::updateDigestForSessionId")
			h.resumed = false
		}
		h.failed = reason
		return
	}
	h.cert = CertValidated
	if h.resumed {
		// Envoy sets the validation status in the verify callback, which
		// does not run on resumption: peerCertificateValidated() is false
		// (envoyproxy/envoy#42668), presented stays true.
		h.validated = false
		h.step(fmt.Sprintf("resumed session with %s: presented, but Envoy reports it not validated (peerCertificateValidated() is false on resumption, envoyproxy/envoy#42668)", h.peer.subject), "source/common/tls/connection_info_impl_base.cc, peerCertificateValidated")
		return
	}
	h.validated = true
	h.step(fmt.Sprintf("client certificate %s verified", h.peer.subject), src)
}

// verifyPeer is DefaultCertValidator::doVerifyCertChain and
// verifyCertificate: the chain against the trusted CA (when set), then the
// SAN matchers, then the pins. It returns the failure in Envoy's and
// curl's words ("" when the certificate passes).
func (m *Model) verifyPeer(v *validation, conn *Connection) string {
	leaf := conn.ClientChain[0]
	if v.hasCA {
		if _, err := verifyChain(conn.ClientChain, v.params); err != nil {
			return fmt.Sprintf("verify cert failed: %s (curl: \"alert %s\"; Envoy: ssl.fail_verify_error)", err, err.alert)
		}
	}
	if sans := v.vc.GetMatchTypedSubjectAltNames(); len(sans) > 0 && !m.matchAnySAN(sans, leaf) {
		var want []string
		for _, s := range sans {
			want = append(want, describeSAN(s))
		}
		return fmt.Sprintf("verify cert failed: SAN matcher, certificate SANs are [%s], none matches %s (curl: \"alert certificate unknown\"; Envoy: ssl.fail_verify_san)", strings.Join(sanStrings(leaf), ", "), strings.Join(want, " or "))
	}
	hashes, spkis := v.vc.GetVerifyCertificateHash(), v.vc.GetVerifyCertificateSpki()
	if len(hashes)+len(spkis) > 0 && !pinsMatch(leaf, hashes, spkis) {
		return "verify cert failed: cert hash and spki (curl: \"alert bad certificate hash value\"; Envoy: ssl.fail_verify_cert_hash)"
	}
	return ""
}

// sanStrings lists a certificate's SANs for a message, as
// Utility::getCertificateSansForLogging does ("DNS:a.example.com").
func sanStrings(c *x509.Certificate) []string {
	var out []string
	for _, gn := range generalNames(c) {
		out = append(out, sanTypeLabel[gn.typ]+":"+gn.value)
	}
	return out
}

// sanTypeLabel prefixes a SAN in messages.
var sanTypeLabel = map[tlsv3.SubjectAltNameMatcher_SanType]string{
	tlsv3.SubjectAltNameMatcher_DNS: "DNS", tlsv3.SubjectAltNameMatcher_URI: "URI",
	tlsv3.SubjectAltNameMatcher_EMAIL: "email", tlsv3.SubjectAltNameMatcher_IP_ADDRESS: "IP",
}
