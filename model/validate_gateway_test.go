package model

import "testing"

// gwDoc is a Gateway default/gw with the given servers; the first server
// starts on line 7.
func gwDoc(servers string) string { return gwHead + "  servers:\n" + servers }

// tlsServer is an HTTPS server on 443 whose tls block (from line 9) holds
// the given lines (each indented six spaces).
func tlsServer(tlsLines string) string {
	return "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls:\n" + tlsLines
}

func TestValidateGateway(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"MUTUAL with the CA in the credential, and an HTTP redirect server": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: gw-cred\n") +
				"  - port: {number: 80, name: http, protocol: http}\n    hosts: [\"*\"]\n    tls: {httpsRedirect: true}\n"),
		},
		"no servers": {
			yaml: gwHead + "  servers: []\n",
			want: []string{"case.yaml:6: Gateway default/gw: spec.servers: at least one server is required"},
		},
		"port number and protocol": {
			yaml: gwDoc("  - port: {number: 70000, protocol: MONGO}\n    hosts: [a.example.com]\n  - port: {number: 80}\n    hosts: [b.example.com]\n"),
			want: []string{
				"case.yaml:7: Gateway default/gw: spec.servers[0].port.number: port number 70000 is not between 1 and 65535",
				`case.yaml:7: Gateway default/gw: spec.servers[0].port.protocol: protocol "MONGO" is not one of HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TLS, TCP`,
				"case.yaml:9: Gateway default/gw: spec.servers[1].port.protocol: protocol is required (HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TLS, TCP)",
			},
		},
		"hosts": {
			yaml: gwDoc("  - port: {number: 80, protocol: HTTP}\n    hosts:\n    - \"*\"\n    - web/a.example.com\n    - \"*/b.example.com\"\n    - ./c.example.com\n    - \"*.d.example.com\"\n    - foo*.example.com\n    - bad_host.example.com\n    - -ns/e.example.com\n  - port: {number: 81, protocol: HTTP}\n    hosts: []\n"),
			want: []string{
				`case.yaml:14: Gateway default/gw: spec.servers[0].hosts[5]: host "foo*.example.com": a wildcard is allowed only as a whole first label ("*.example.com")`,
				`case.yaml:15: Gateway default/gw: spec.servers[0].hosts[6]: host "bad_host.example.com": DNS label "bad_host" may hold only letters, digits and inner hyphens`,
				`case.yaml:16: Gateway default/gw: spec.servers[0].hosts[7]: host "-ns/e.example.com": namespace: DNS label "-ns" may hold only letters, digits and inner hyphens`,
				"case.yaml:18: Gateway default/gw: spec.servers[1].hosts: at least one host is required",
			},
		},
		"bind must be an IP address": {
			yaml: gwDoc("  - port: {number: 80, protocol: HTTP}\n    bind: localhost\n    hosts: [\"*\"]\n"),
			want: []string{`case.yaml:8: Gateway default/gw: spec.servers[0].bind: bind "localhost" is not an IP address`},
		},
		"HTTPS needs tls": {
			yaml: gwDoc("  - port: {number: 443, protocol: HTTPS}\n    hosts: [a.example.com]\n"),
			want: []string{"case.yaml:7: Gateway default/gw: spec.servers[0]: protocol HTTPS requires tls"},
		},
		"ISTIO_MUTUAL is not supported": {
			yaml: gwDoc(tlsServer("      mode: ISTIO_MUTUAL\n")),
			want: []string{"case.yaml:10: Gateway default/gw: spec.servers[0].tls.mode: tls.mode ISTIO_MUTUAL is not supported by trustgate: it has no mesh identity"},
		},
		"AUTO_PASSTHROUGH is not supported": {
			yaml: gwDoc(tlsServer("      mode: AUTO_PASSTHROUGH\n")),
			want: []string{"case.yaml:10: Gateway default/gw: spec.servers[0].tls.mode: tls.mode AUTO_PASSTHROUGH is not supported by trustgate: it has no mesh identity"},
		},
		"unknown mode": {
			yaml: gwDoc(tlsServer("      mode: STRICT\n")),
			want: []string{`case.yaml:10: Gateway default/gw: spec.servers[0].tls.mode: tls.mode "STRICT" is not one of SIMPLE, MUTUAL, OPTIONAL_MUTUAL, PASSTHROUGH`},
		},
		"TLS on an HTTP server": {
			yaml: gwDoc("  - port: {number: 80, protocol: HTTP}\n    hosts: [\"*\"]\n    tls: {mode: SIMPLE, credentialName: gw-cred}\n"),
			want: []string{"case.yaml:9: Gateway default/gw: spec.servers[0].tls: TLS settings need protocol HTTPS or TLS (an HTTP server may set only httpsRedirect)"},
		},
		"a certificate without a mode is Istio's PASSTHROUGH": {
			yaml: gwDoc(tlsServer("      credentialName: gw-cred\n")),
			want: []string{"case.yaml:9: Gateway default/gw: spec.servers[0].tls.mode: tls.mode is not set, so Istio's default PASSTHROUGH applies and the certificate is ignored; set mode: SIMPLE, MUTUAL or OPTIONAL_MUTUAL"},
		},
		"PASSTHROUGH on TLS": {
			yaml: gwDoc("  - port: {number: 443, protocol: TLS}\n    hosts: [a.example.com]\n    tls: {mode: PASSTHROUGH}\n"),
		},
		"no certificate": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n")),
			want: []string{"case.yaml:9: Gateway default/gw: spec.servers[0].tls: SIMPLE needs a certificate: set credentialName, credentialNames, or serverCertificate and privateKey"},
		},
		"two certificate sources": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      serverCertificate: certs/server.pem\n      privateKey: certs/key.pem\n")),
			want: []string{"case.yaml:9: Gateway default/gw: spec.servers[0].tls: set only one of credentialName, credentialNames, and serverCertificate with privateKey"},
		},
		"serverCertificate without privateKey": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      serverCertificate: certs/server.pem\n")),
			want: []string{"case.yaml:9: Gateway default/gw: spec.servers[0].tls.privateKey: privateKey is required with serverCertificate"},
		},
		"certificate file holding a key": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      serverCertificate: certs/key.pem\n      privateKey: certs/key.pem\n")),
			want: []string{`case.yaml:11: Gateway default/gw: spec.servers[0].tls.serverCertificate: certs/key.pem: PEM block 1 is "PRIVATE KEY"; expected "CERTIFICATE"`},
		},
		"credential not found": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialName: gw-crd\n")),
			want: []string{`case.yaml:11: Gateway default/gw: spec.servers[0].tls.credentialName: secret "gw-crd" not found in namespaces "default" and "istio-system" (did you mean "gw-cred"?)`},
		},
		"credential without a key": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialName: client-ca\n")),
			want: []string{`case.yaml:11: Gateway default/gw: spec.servers[0].tls.credentialName: secret "client-ca" (secrets.yaml:20 Secret istio-system/client-ca) has no certificate and key: expected keys tls.crt and tls.key (or cert and key)`},
		},
		"MUTUAL without a client CA": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: simple-cred\n")),
			want: []string{`case.yaml:11: Gateway default/gw: spec.servers[0].tls.credentialName: MUTUAL needs a client CA: secret "simple-cred" (secrets.yaml:11 Secret istio-system/simple-cred) has no CA: expected key cacert or ca.crt; found: tls.crt, tls.key; add ca.crt, or create secret "simple-cred-cacert"`},
		},
		"OPTIONAL_MUTUAL with caCertCredentialName": {
			yaml: gwDoc(tlsServer("      mode: OPTIONAL_MUTUAL\n      credentialName: simple-cred\n      caCertCredentialName: client-ca\n")),
		},
		"caCertCredentialName without a CA": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: gw-cred\n      caCertCredentialName: simple-cred\n")),
			want: []string{`case.yaml:12: Gateway default/gw: spec.servers[0].tls.caCertCredentialName: secret "simple-cred" (secrets.yaml:11 Secret istio-system/simple-cred) has no CA: expected key ca.crt or cacert`},
		},
		"MUTUAL from files": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      serverCertificate: certs/server.pem\n      privateKey: certs/key.pem\n      caCertificates: certs/ca.pem\n      caCrl: certs/ca.crl\n")),
		},
		"MUTUAL from files without caCertificates": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      serverCertificate: certs/server.pem\n      privateKey: certs/key.pem\n")),
			want: []string{"case.yaml:9: Gateway default/gw: spec.servers[0].tls.caCertificates: MUTUAL needs caCertificates: the CA that signs client certificates"},
		},
		"caCrl with credentialName": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: gw-cred\n      caCrl: certs/ca.crl\n")),
			want: []string{"case.yaml:12: Gateway default/gw: spec.servers[0].tls.caCrl: caCrl cannot be used with credentialName: the CRL comes from the secret (key ca.crl)"},
		},
		"caCrl with SIMPLE": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      serverCertificate: certs/server.pem\n      privateKey: certs/key.pem\n      caCrl: certs/ca.crl\n")),
			want: []string{"case.yaml:13: Gateway default/gw: spec.servers[0].tls.caCrl: caCrl needs tls.mode MUTUAL or OPTIONAL_MUTUAL"},
		},
		"caCertificates with credentialName": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: gw-cred\n      caCertificates: certs/ca.pem\n")),
			want: []string{`case.yaml:12: Gateway default/gw: spec.servers[0].tls.caCertificates: caCertificates cannot be used with credentialName: the CA comes from the secret (key ca.crt) or from secret "<name>-cacert"`},
		},
		"client checks on SIMPLE": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      subjectAltNames: [client.example.com]\n")),
			want: []string{"case.yaml:12: Gateway default/gw: spec.servers[0].tls.subjectAltNames: subjectAltNames is for client certificates, which tls.mode SIMPLE does not request; use MUTUAL or OPTIONAL_MUTUAL"},
		},
		"pins": {
			yaml: gwDoc(tlsServer("      mode: MUTUAL\n      credentialName: gw-cred\n      verifyCertificateSpki: [\"NvqYIYSbgK2vCJpQhObf77vv+bQWtc5ek5RIOwPiC9A=\", short]\n      verifyCertificateHash:\n      - 2a:2b\n      - DF6FF72FE9116521268F6F2DD4966F51DF479883FE7037B39F75916AC3049D1A\n      - DF:6F:F7:2F:E9:11:65:21:26:8F:6F:2D:D4:96:6F:51:DF:47:98:83:FE:70:37:B3:9F:75:91:6A:C3:04:9D:1A\n")),
			want: []string{
				`case.yaml:12: Gateway default/gw: spec.servers[0].tls.verifyCertificateSpki[1]: "short" is not a base64 SHA-256 hash (44 characters)`,
				`case.yaml:14: Gateway default/gw: spec.servers[0].tls.verifyCertificateHash[0]: "2a:2b" is not a hex SHA-256 hash (64 hex digits, or 95 characters with colons)`,
			},
		},
		"protocol versions": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      minProtocolVersion: TLSV1_3\n      maxProtocolVersion: TLSV1_2\n") +
				tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      minProtocolVersion: TLSV1_4\n")),
			want: []string{
				"case.yaml:12: Gateway default/gw: spec.servers[0].tls.minProtocolVersion: minProtocolVersion TLSV1_3 is above maxProtocolVersion TLSV1_2",
				`case.yaml:19: Gateway default/gw: spec.servers[1].tls.minProtocolVersion: "TLSV1_4" is not one of TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2, TLSV1_3`,
			},
		},
		"versions against Envoy's defaults": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      maxProtocolVersion: TLSV1_1\n") +
				tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      minProtocolVersion: TLS_AUTO\n      maxProtocolVersion: TLSV1_0\n") +
				tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      minProtocolVersion: TLSV1_0\n      maxProtocolVersion: TLSV1_1\n") +
				tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      minProtocolVersion: TLSV1_1\n      maxProtocolVersion: TLSV1_1\n      cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]\n") +
				tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      minProtocolVersion: TLSV1_0\n      maxProtocolVersion: TLSV1_1\n      cipherSuites: [\"[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-AES128-SHA]\"]\n") +
				tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      minProtocolVersion: TLSV1_3\n")),
			want: []string{
				"case.yaml:12: Gateway default/gw: spec.servers[0].tls.maxProtocolVersion: maxProtocolVersion TLSV1_1 is below Envoy's default minimum TLSV1_2 (minProtocolVersion is not set), so every handshake would fail; set minProtocolVersion too",
				"case.yaml:19: Gateway default/gw: spec.servers[1].tls.maxProtocolVersion: maxProtocolVersion TLSV1_0 is below Envoy's default minimum TLSV1_2 (minProtocolVersion is not set), so every handshake would fail; set minProtocolVersion too",
				"case.yaml:26: Gateway default/gw: spec.servers[2].tls.maxProtocolVersion: with maxProtocolVersion TLSV1_1 no cipher suite can be agreed: Envoy's default suites all need TLS 1.2, so every handshake would fail; list a CBC suite usable below TLS 1.2 (ECDHE-ECDSA-AES128-SHA, ECDHE-RSA-AES128-SHA, ECDHE-ECDSA-AES256-SHA, ECDHE-RSA-AES256-SHA, AES128-SHA, AES256-SHA, DES-CBC3-SHA) in cipherSuites",
				"case.yaml:34: Gateway default/gw: spec.servers[3].tls.cipherSuites: with maxProtocolVersion TLSV1_1 no cipher suite can be agreed: every listed suite needs TLS 1.2, so every handshake would fail; list a CBC suite usable below TLS 1.2 (ECDHE-ECDSA-AES128-SHA, ECDHE-RSA-AES128-SHA, ECDHE-ECDSA-AES256-SHA, ECDHE-RSA-AES256-SHA, AES128-SHA, AES256-SHA, DES-CBC3-SHA)",
			},
		},
		"cipher suites": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialName: simple-cred\n      cipherSuites:\n      - ECDHE-RSA-AES128-GCM-SHA256\n      - \"[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]\"\n      - TLS_AES_128_GCM_SHA256\n      - RC4-MD5\n      - ECDHE-RSA-AES128-GCM-SHA256\n")),
			want: []string{
				`case.yaml:15: Gateway default/gw: spec.servers[0].tls.cipherSuites[2]: cipher suite "TLS_AES_128_GCM_SHA256": use OpenSSL names (ECDHE-RSA-AES128-GCM-SHA256); TLS 1.3 suites are not configurable in Envoy`,
				`case.yaml:16: Gateway default/gw: spec.servers[0].tls.cipherSuites[3]: cipher suite "RC4-MD5" is not known to BoringSSL; Envoy would reject the listener`,
				`case.yaml:17: Gateway default/gw: spec.servers[0].tls.cipherSuites[4]: cipher suite "ECDHE-RSA-AES128-GCM-SHA256" is listed twice`,
			},
		},
		"credentialNames": {
			yaml: gwDoc(tlsServer("      mode: SIMPLE\n      credentialNames: [simple-cred, gw-cred, simple-cred]\n")),
			want: []string{
				"case.yaml:11: Gateway default/gw: spec.servers[0].tls.credentialNames: at most 2 credentialNames (one RSA, one ECDSA); got 3",
				`case.yaml:11: Gateway default/gw: spec.servers[0].tls.credentialNames[2]: credential "simple-cred" is listed twice`,
			},
		},
		"server names are unique": {
			yaml: gwDoc("  - port: {number: 80, protocol: HTTP}\n    hosts: [\"*\"]\n    name: web\n  - port: {number: 81, protocol: HTTP}\n    hosts: [\"*\"]\n    name: web\n"),
			want: []string{`case.yaml:12: Gateway default/gw: spec.servers[1].name: server name "web" is also used by spec.servers[0]`},
		},
		"a Gateway defined twice": {
			yaml: gwDoc("  - port: {number: 80, protocol: HTTP}\n    hosts: [\"*\"]\n") + "---\n" + gwDoc("  - port: {number: 81, protocol: HTTP}\n    hosts: [\"*\"]\n"),
			want: []string{"case.yaml:13: Gateway default/gw: metadata.name: Gateway default/gw is defined twice (first at case.yaml:1)"},
		},
	})
}
