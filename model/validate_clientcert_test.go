package model

import (
	"strings"
	"testing"
)

// ccpGateway is a Gateway default/gw with an OPTIONAL_MUTUAL server named
// mtls, a MUTUAL server on port name strict, a SIMPLE one on port name
// simple, and a plain HTTP one.
var ccpGateway = gwDoc(
	"  - name: mtls\n    port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: {mode: OPTIONAL_MUTUAL, credentialName: gw-cred}\n" +
		"  - port: {number: 8443, name: strict, protocol: HTTPS}\n    hosts: [b.example.com]\n    tls: {mode: MUTUAL, credentialName: gw-cred}\n" +
		"  - port: {number: 9443, name: simple, protocol: HTTPS}\n    hosts: [c.example.com]\n    tls: {mode: SIMPLE, credentialName: simple-cred}\n" +
		"  - port: {number: 80, protocol: HTTP}\n    hosts: [\"*\"]\n")

// ccpDoc is a ClientCertificatePolicy default/p whose spec starts on line
// 5, followed by ccpGateway.
func ccpDoc(spec string) string {
	return "apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: p}\nspec:\n" + spec + "---\n" + ccpGateway
}

func TestValidateClientCertificatePolicy(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"every field": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, group: networking.istio.io, name: gw, sectionName: mtls}\n  clientCA: client-ca\n  crl: {onlyVerifyLeaf: true}\n  verifyDepth: 2\n" +
				"  subjectAltNames:\n  - {type: URI, prefix: \"spiffe://example.org/\"}\n  - {type: DNS, regex: \"^[a-z]+\\\\.example\\\\.com$\"}\n" +
				"  verifyCertificateSpki: [\"NvqYIYSbgK2vCJpQhObf77vv+bQWtc5ek5RIOwPiC9A=\"]\n" +
				"  rejection: {status: 401, body: client certificate required}\n" +
				"  forwardClientCert: {mode: SANITIZE_SET, cert: true}\n" +
				"  identityHeaders: {subject: x-client-subject, fingerprint: x-client-fp, ingressNginx: true}\n" +
				"  maxConnectionDuration: 1h\n" +
				"  authorization:\n    allow:\n    - {name: team, commonName: [{suffix: .team.example.com}], paths: [/api/*, \"*/health\"], hosts: [a.example.com]}\n" +
				"    deny:\n    - fingerprint: [{exact: DF6FF72FE9116521268F6F2DD4966F51DF479883FE7037B39F75916AC3049D1A}]\n"),
		},
		// noWildcard asks for a literal DNS SAN: Envoy's exact DNS SAN
		// match lets a wildcard SAN in the certificate satisfy it.
		"noWildcard on exact DNS SANs": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n" +
				"  subjectAltNames:\n  - {type: DNS, exact: admin.example.com, noWildcard: true}\n  - {type: dns, exact: b.example.com, noWildcard: false}\n" +
				"  authorization:\n    allow:\n    - dnsSan: [{exact: admin.example.com, noWildcard: true}]\n"),
		},
		"noWildcard elsewhere": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n" +
				"  subjectAltNames:\n  - {type: URI, exact: \"spiffe://example.org/a\", noWildcard: true}\n  - {type: DNS, suffix: .example.com, noWildcard: true}\n" +
				"  authorization:\n    allow:\n    - commonName: [{exact: admin.example.com, noWildcard: true}]\n"),
			want: []string{
				"case.yaml:7: ClientCertificatePolicy default/p: spec.subjectAltNames[0].noWildcard: noWildcard applies to an exact match of a DNS SAN; Envoy matches every other SAN type and match literally",
				"case.yaml:8: ClientCertificatePolicy default/p: spec.subjectAltNames[1].noWildcard: noWildcard applies to an exact match of a DNS SAN; Envoy matches every other SAN type and match literally",
				"case.yaml:11: ClientCertificatePolicy default/p: spec.authorization.allow[0].commonName[0].noWildcard: noWildcard applies to an exact match of a DNS SAN; Envoy matches every other SAN type and match literally",
			},
		},
		// In a deny rule noWildcard would narrow it: a certificate for
		// *.example.com would no longer be denied.
		"noWildcard in a deny rule": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n" +
				"  authorization:\n    deny:\n    - dnsSan: [{exact: admin.example.com, noWildcard: true}]\n"),
			want: []string{
				"case.yaml:8: ClientCertificatePolicy default/p: spec.authorization.deny[0].dnsSan[0].noWildcard: noWildcard would let a certificate whose DNS SAN is a wildcard covering \"admin.example.com\" (such as *.example.com) escape this deny rule; leave it out",
			},
		},
		"a client CA from the policy serves a MUTUAL server whose secret has none": {
			yaml: "apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: p}\nspec:\n  targetRef: {kind: Gateway, name: gw}\n  clientCA: client-ca\n---\n" +
				gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: simple-cred\n")),
		},
		"target": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: nope}\n") + "---\n" +
				"apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: q}\nspec:\n  targetRef: {kind: Gateway, name: gww}\n---\n" +
				"apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: r}\nspec:\n  targetRef: {kind: Service, name: gw}\n",
			want: []string{
				`case.yaml:4: ClientCertificatePolicy default/p: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`,
				`case.yaml:5: ClientCertificatePolicy default/p: spec.targetRef.sectionName: sectionName "nope" names no server of Gateway default/gw (server or port names: mtls, https, strict, simple)`,
				`case.yaml:29: ClientCertificatePolicy default/q: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`,
				`case.yaml:30: ClientCertificatePolicy default/q: spec.targetRef.name: gateway "default/gww" not found (did you mean "default/gw"?)`,
				`case.yaml:35: ClientCertificatePolicy default/r: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`,
				`case.yaml:36: ClientCertificatePolicy default/r: spec.targetRef.kind: kind "Service" is not supported; the target must be a Gateway`,
			},
		},
		"the targeted server must ask for client certificates": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: simple}\n"),
			want: []string{
				`case.yaml:4: ClientCertificatePolicy default/p: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`,
				`case.yaml:5: ClientCertificatePolicy default/p: spec.targetRef: Gateway default/gw section "simple" has a server without tls.mode MUTUAL or OPTIONAL_MUTUAL; client-certificate settings need one of them`,
			},
		},
		"rejection needs OPTIONAL_MUTUAL": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: strict}\n  rejection: {status: 403}\n"),
			want: []string{`case.yaml:6: ClientCertificatePolicy default/p: spec.rejection: with MUTUAL the TLS handshake fails before any HTTP response can be sent; set tls.mode: OPTIONAL_MUTUAL (server port "strict")`},
		},
		"rejection fields": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n  rejection:\n    status: 700\n    redirect: /login\n    body: x\n"),
			want: []string{
				"case.yaml:6: ClientCertificatePolicy default/p: spec.rejection: set only one of status and redirect",
				"case.yaml:7: ClientCertificatePolicy default/p: spec.rejection.status: status 700 is not between 200 and 599",
				`case.yaml:8: ClientCertificatePolicy default/p: spec.rejection.redirect: redirect "/login" is not an absolute http(s) URL`,
				"case.yaml:9: ClientCertificatePolicy default/p: spec.rejection.body: body is sent only with status, not with redirect",
			},
		},
		"rejection body over 1 MiB": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n  rejection:\n    status: 400\n    body: " + strings.Repeat("a", 1<<20+1) + "\n"),
			want: []string{"case.yaml:8: ClientCertificatePolicy default/p: spec.rejection.body: body is 1048577 bytes; at most 1048576 are allowed (Istio's limit; Envoy holds direct-response bodies in memory)"},
		},
		"empty rejection": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: https}\n  rejection: {}\n"),
			want: []string{"case.yaml:6: ClientCertificatePolicy default/p: spec.rejection: one of status and redirect is required"},
		},
		"certificate checks": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n  clientCA: client-cert\n  verifyDepth: 100\n" +
				"  subjectAltNames:\n  - {type: OTHER, exact: a}\n  - {type: DNS, exact: a, suffix: b}\n  - {type: URI, regex: \"(\"}\n" +
				"  verifyCertificateHash: [abc]\n  forwardClientCert: {mode: SANITISE}\n  maxConnectionDuration: forever\n"),
			want: []string{
				`case.yaml:6: ClientCertificatePolicy default/p: spec.clientCA: secrets "client-cert-cacert" and "client-cert" not found in namespaces "default" and "istio-system" (did you mean "client-ca"?)`,
				"case.yaml:7: ClientCertificatePolicy default/p: spec.verifyDepth: verifyDepth 100 is not between 0 and 99 (the intermediates allowed between the client certificate and its trusted CA)",
				`case.yaml:9: ClientCertificatePolicy default/p: spec.subjectAltNames[0].type: type "OTHER" is not one of DNS, URI, EMAIL, IP`,
				"case.yaml:10: ClientCertificatePolicy default/p: spec.subjectAltNames[1]: exactly one of exact, prefix, suffix and regex is required",
				"case.yaml:11: ClientCertificatePolicy default/p: spec.subjectAltNames[2].regex: invalid regex: error parsing regexp: missing closing ): `(`",
				`case.yaml:12: ClientCertificatePolicy default/p: spec.verifyCertificateHash[0]: "abc" is not a hex SHA-256 hash (64 hex digits, or 95 characters with colons)`,
				`case.yaml:13: ClientCertificatePolicy default/p: spec.forwardClientCert.mode: mode "SANITISE" is not one of SANITIZE, FORWARD_ONLY, APPEND_FORWARD, SANITIZE_SET, ALWAYS_FORWARD_ONLY`,
				`case.yaml:14: ClientCertificatePolicy default/p: spec.maxConnectionDuration: invalid duration "forever" (use a form like 500ms, 10s, 1m, 1h)`,
			},
		},
		"identity headers": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n  identityHeaders:\n    subject: SSL-Client-Subject-DN\n    issuer: x-issuer\n    uriSan: X-Issuer\n    dnsSan: \":path\"\n    fingerprint: x-forwarded-client-cert\n    serial: bad header\n    ingressNginx: true\n"),
			want: []string{
				`case.yaml:7: ClientCertificatePolicy default/p: spec.identityHeaders.subject: header "SSL-Client-Subject-DN" is also used by ingressNginx`,
				`case.yaml:9: ClientCertificatePolicy default/p: spec.identityHeaders.uriSan: header "X-Issuer" is also used by issuer`,
				`case.yaml:10: ClientCertificatePolicy default/p: spec.identityHeaders.dnsSan: pseudo header ":path" cannot carry an identity`,
				"case.yaml:11: ClientCertificatePolicy default/p: spec.identityHeaders.fingerprint: x-forwarded-client-cert is set by forwardClientCert",
				`case.yaml:12: ClientCertificatePolicy default/p: spec.identityHeaders.serial: header name "bad header" has an invalid character ' '`,
			},
		},
		"authorization rules": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n  authorization:\n    allow:\n    - {name: nothing, hosts: [a.example.com]}\n    deny:\n    - fingerprint: [{exact: zz}]\n      subject: [{}]\n      paths: [api]\n"),
			want: []string{
				"case.yaml:8: ClientCertificatePolicy default/p: spec.authorization.allow[0]: rule matches no certificate field (subject, commonName, issuer, fingerprint, dnsSan, uriSan, emailSan, ipSan)",
				`case.yaml:10: ClientCertificatePolicy default/p: spec.authorization.deny[0].fingerprint[0].exact: "zz" is not a hex SHA-256 hash (64 hex digits, or 95 characters with colons)`,
				"case.yaml:11: ClientCertificatePolicy default/p: spec.authorization.deny[0].subject[0]: exactly one of exact, prefix, suffix and regex is required",
				`case.yaml:12: ClientCertificatePolicy default/p: spec.authorization.deny[0].paths[0]: path "api" must start with / (or * for a suffix match)`,
			},
		},
		"two policies for one gateway section": {
			yaml: ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n") + "---\n" +
				"apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: q}\nspec:\n  targetRef: {kind: Gateway, name: gw, namespace: default, sectionName: mtls}\n",
			want: []string{
				`case.yaml:4: ClientCertificatePolicy default/p: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`,
				`case.yaml:29: ClientCertificatePolicy default/q: spec: the policy sets nothing besides targetRef (a file cut short after targetRef reads this way); add its settings, or delete the policy`,
				`case.yaml:30: ClientCertificatePolicy default/q: spec.targetRef: Gateway default/gw section "mtls" is already targeted by ClientCertificatePolicy default/p (case.yaml:1)`,
			},
		},
	})
}
