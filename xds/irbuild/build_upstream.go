package irbuild

import (
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// findSubset returns the named subset of dr and its field path.
func findSubset(dr *model.DestinationRule, name string) (*model.Subset, string) {
	if dr == nil || name == "" {
		return nil, ""
	}
	for i := range dr.Spec.Subsets {
		if dr.Spec.Subsets[i].Name == name {
			return &dr.Spec.Subsets[i], fmt.Sprintf("spec.subsets[%d]", i)
		}
	}
	return nil, ""
}

// upstreamTLS builds the TLS towards a backend from the policy in force
// (see policyFor).
func (b *builder) upstreamTLS(p *trafficPolicy, host string, port uint32, http2 bool) *ir.UpstreamTLS {
	t, path := p.tls, p.tlsPath
	if t == nil {
		return nil
	}
	obj := &p.dr.Object
	mode := strings.ToUpper(t.Mode)
	switch mode {
	case "", "DISABLE":
		return nil
	case "SIMPLE", "MUTUAL":
	default:
		b.errorf(obj, path+".mode", "mode %s is not supported (DISABLE, SIMPLE, MUTUAL)", t.Mode)
		return nil
	}
	u := &ir.UpstreamTLS{
		SNI: t.SNI, InsecureSkipVerify: t.InsecureSkipVerify != nil && *t.InsecureSkipVerify,
		// TLS 1.2 to 1.3, Istio's defaultUpstreamCommonTLSContext (istio/istio
		// pilot/pkg/networking/core/cluster_tls.go); Envoy's own client
		// maximum is TLS 1.2 (ClientContextConfigImpl, source/common/tls/
		// client_context_config_impl.cc).
		MinVersion: "TLSv1_2", MaxVersion: "TLSv1_3",
	}
	if u.SNI == "" && !isIP(host) && !strings.HasPrefix(host, "*") {
		// Envoy sends no SNI unless told, and most TLS backends need it to
		// pick a certificate.
		u.SNI = host
	}
	if mode == "MUTUAL" {
		u.CertSecret = b.upstreamCert(obj, path, t)
	}
	if http2 {
		// gRPC servers require ALPN h2 over TLS.
		u.ALPN = []string{"h2"}
	}
	if u.InsecureSkipVerify {
		return u
	}
	if ca := b.upstreamCA(obj, path, t, mode); ca != nil {
		u.CASecret = b.addCASecret(ca)
		u.SubjectAltNames = upstreamSANs(t.SubjectAltNames, u.SNI, host)
	} else {
		b.warnf(obj, path, "TLS to %s:%d without caCertificates or a credential CA: the backend's certificate is not verified (set insecureSkipVerify: true to say so)", host, port)
	}
	return u
}

// upstreamCert registers the client certificate presented to a backend
// (MUTUAL): credentialName, or clientCertificate and privateKey files.
func (b *builder) upstreamCert(obj *model.Object, path string, t *model.ClientTLSSettings) string {
	switch {
	case t.CredentialName != "":
		name, _ := b.resolveCert(obj, path+".credentialName", obj.Metadata.Namespace, t.CredentialName)
		return name
	case t.ClientCertificate != "" && t.PrivateKey != "":
		name, _ := b.fileCert(obj, path+".clientCertificate", t.ClientCertificate, t.PrivateKey)
		return name
	}
	b.errorf(obj, path+".mode", "MUTUAL requires credentialName, or clientCertificate and privateKey")
	return ""
}

// upstreamCA is the CA a backend is verified with: caCertificates (+caCrl)
// files, else the CA of credentialName. For MUTUAL a credential without a
// CA is accepted (it supplies the client certificate); for SIMPLE the
// credential is there for its CA.
func (b *builder) upstreamCA(obj *model.Object, path string, t *model.ClientTLSSettings, mode string) *caSource {
	switch {
	case t.CACertificates != "":
		return b.fileCA(obj, path+".caCertificates", t.CACertificates, t.CACrl)
	case t.CredentialName != "":
		src, err := b.resolveCA(obj, path+".credentialName", obj.Metadata.Namespace, t.CredentialName, false)
		if err != nil && mode == "SIMPLE" {
			b.errorAt(obj, path+".credentialName", fmt.Errorf("backend CA: %w", err))
		}
		return src
	}
	return nil
}

// upstreamSANs are the names a backend certificate must carry: the given
// ones (URI when they contain "://", DNS otherwise), else the SNI (DNS), else
// for an IP host the IP (IP_ADDRESS). This is nginx's proxy_ssl_verify with
// proxy_ssl_name: a certificate from the right CA for another host fails.
func upstreamSANs(values []string, sni, host string) []ir.SANMatch {
	var out []ir.SANMatch
	for _, v := range values {
		t := ir.SANDNS
		if strings.Contains(v, "://") {
			t = ir.SANURI
		}
		out = append(out, ir.SANMatch{Type: t, Match: ir.StringMatch{Exact: v}})
	}
	switch {
	case len(out) > 0:
	case sni != "":
		out = []ir.SANMatch{{Type: ir.SANDNS, Match: ir.StringMatch{Exact: sni}}}
	case isIP(host):
		out = []ir.SANMatch{{Type: ir.SANIP, Match: ir.StringMatch{Exact: host}}}
	}
	return out
}
