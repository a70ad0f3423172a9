package irbuild

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/ir"
)

// Defaults of a rejection, nginx's wording for its 400 without a
// certificate.
const (
	defaultRejectStatus = 400
	defaultRejectBody   = "No required SSL certificate was sent\n"
	rejectRedirectCode  = 302
)

// Envoy formatters for certificate fields not named by PeerField.
const (
	peerURISAN = "%DOWNSTREAM_PEER_URI_SAN%"
	peerDNSSAN = "%DOWNSTREAM_PEER_DNS_SAN%"
	peerSerial = "%DOWNSTREAM_PEER_SERIAL%"
)

// sslClientVerify is ingress-nginx's verification header.
const sslClientVerify = "ssl-client-verify"

// addRejection puts a first route in every virtual host of the chain that
// answers requests without a client certificate. It matches "presented",
// not "validated": Envoy reports validated=false on resumed TLS sessions,
// which would reject legitimate clients, while a presented certificate was
// verified in the handshake (OPTIONAL_MUTUAL still refuses invalid ones).
func (b *builder) addRejection(p *model.ClientCertificatePolicy, ci *chainInfo) {
	obj, rej, tls := &p.Object, p.Spec.Rejection, ci.chain.TLS
	if tls.Mode != ir.TLSOptionalMutual {
		b.warnf(obj, "spec.rejection", "chain %s is %s: a client without a certificate fails the handshake before any HTTP answer; rejection needs tls.mode OPTIONAL_MUTUAL", ci.chain.Name, tls.Mode)
		return
	}
	if len(tls.SubjectAltNames)+len(tls.SPKI)+len(tls.CertHashes) > 0 {
		b.warnf(obj, "spec.rejection", "chain %s has SAN matchers or pins: Envoy then requires a client certificate in the handshake, so rejection may never answer", ci.chain.Name)
	}
	notPresented := false
	r := &ir.Route{
		Name:  p.Metadata.Namespace + "/" + p.Metadata.Name + "/no-client-certificate",
		Match: ir.RouteMatch{CertPresented: &notPresented},
	}
	if rej.Redirect != "" {
		r.Redirect = b.rejectRedirect(obj, rej.Redirect)
	} else {
		r.DirectResponse = &ir.DirectResponse{Status: rej.Status, Body: rej.Body}
		if r.DirectResponse.Status == 0 {
			r.DirectResponse.Status = defaultRejectStatus
		}
		if r.DirectResponse.Body == "" {
			r.DirectResponse.Body = defaultRejectBody
		}
	}
	for _, vh := range ci.rc.VirtualHosts {
		vh.Routes = append([]*ir.Route{r}, vh.Routes...)
	}
	ci.rejection = true
	ci.localRoutes = append(ci.localRoutes, r)
}

// rejectRedirect converts an absolute redirect URL.
func (b *builder) rejectRedirect(obj *model.Object, raw string) *ir.Redirect {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		b.errorf(obj, "spec.rejection.redirect", "want an absolute URL such as https://login.example.com/cert-required, got %q", raw)
		return &ir.Redirect{Code: rejectRedirectCode}
	}
	out := &ir.Redirect{Scheme: u.Scheme, Host: u.Hostname(), Path: u.EscapedPath(), Code: rejectRedirectCode}
	if u.RawQuery != "" {
		out.Path += "?" + u.RawQuery
	}
	if port := u.Port(); port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			b.errorf(obj, "spec.rejection.redirect", "invalid port %q", port)
		}
		out.Port = uint32(n)
	}
	return out
}

// identityHeaderValues lists the headers an IdentityHeaders policy fills and
// their formatters.
func identityHeaderValues(ih *model.IdentityHeaders) []ir.Header {
	var out []ir.Header
	add := func(name, value string) {
		if name != "" {
			out = append(out, ir.Header{Name: strings.ToLower(name), Value: value})
		}
	}
	add(ih.Subject, string(ir.PeerSubject))
	add(ih.Issuer, string(ir.PeerIssuer))
	add(ih.URISAN, peerURISAN)
	add(ih.DNSSAN, peerDNSSAN)
	add(ih.Fingerprint, string(ir.PeerFingerprint))
	add(ih.Serial, peerSerial)
	if ih.IngressNginx {
		add("ssl-client-subject-dn", string(ir.PeerSubject))
		add("ssl-client-issuer-dn", string(ir.PeerIssuer))
	}
	return out
}

// addIdentityHeaders fills headers from the peer certificate on every
// virtual host of the chain. Each is always removed first at the same level
// (vhost): Envoy skips a header whose formatter yields nothing, and the
// client's own copy must never survive.
//
// ingress-nginx's ssl-client-verify needs a conditional value no formatter
// can express. What is emitted: "SUCCESS" at the vhost level when every
// forwarded request carries a verified certificate (MUTUAL, or
// OPTIONAL_MUTUAL with a rejection); "NONE" at the vhost level for SIMPLE;
// for OPTIONAL_MUTUAL without rejection every route is split in two, a copy
// matching "no certificate presented" that sets "NONE" followed by the
// original that sets "SUCCESS" (route level, removed there too). "FAILED"
// never occurs: Envoy refuses invalid certificates in the handshake.
func (b *builder) addIdentityHeaders(p *model.ClientCertificatePolicy, ci *chainInfo) {
	op := ir.HeaderOp{}
	seen := map[string]string{}
	for _, h := range identityHeaderValues(p.Spec.IdentityHeaders) {
		if prev, ok := seen[h.Name]; ok {
			if prev != h.Value {
				b.errorf(&p.Object, "spec.identityHeaders", "header %s is used for both %s and %s", h.Name, prev, h.Value)
			}
			continue
		}
		seen[h.Name] = h.Value
		op.Set = append(op.Set, h)
		op.Remove = append(op.Remove, h.Name)
	}
	if p.Spec.IdentityHeaders.IngressNginx {
		switch {
		case ci.chain.TLS.Mode == ir.TLSMutual || ci.rejection:
			op = mergeHeaderOp(op, verifyHeader("SUCCESS"))
		case ci.chain.TLS.Mode == ir.TLSSimple:
			op = mergeHeaderOp(op, verifyHeader("NONE"))
		default:
			splitByCertPresence(ci.rc)
		}
	}
	op = mergeHeaderOp(ir.HeaderOp{}, op)
	for _, vh := range ci.rc.VirtualHosts {
		vh.Headers.Request = mergeHeaderOp(vh.Headers.Request, op)
	}
}

// verifyHeader sets ssl-client-verify to value, removing the client's copy.
func verifyHeader(value string) ir.HeaderOp {
	return ir.HeaderOp{Set: []ir.Header{{Name: sslClientVerify, Value: value}}, Remove: []string{sslClientVerify}}
}

// splitByCertPresence precedes every forwarding route with a copy that
// matches only requests without a client certificate and sets
// ssl-client-verify NONE; the original then sees only requests with one and
// sets SUCCESS. Routes that answer from the gateway send no request headers
// anywhere and stay as they are.
func splitByCertPresence(rc *ir.RouteConfig) {
	for _, vh := range rc.VirtualHosts {
		var routes []*ir.Route
		for _, r := range vh.Routes {
			if r.Match.CertPresented != nil || r.Forward == nil {
				routes = append(routes, r)
				continue
			}
			none := *r
			notPresented := false
			none.Name += "/no-client-certificate"
			none.Match.CertPresented = &notPresented
			none.Headers.Request = mergeHeaderOp(r.Headers.Request, verifyHeader("NONE"))
			r.Headers.Request = mergeHeaderOp(r.Headers.Request, verifyHeader("SUCCESS"))
			routes = append(routes, &none, r)
		}
		vh.Routes = routes
	}
}
