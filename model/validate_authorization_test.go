package model

import (
	"strings"
	"testing"
)

// apDoc is an AuthorizationPolicy default/ap whose spec starts on line 5,
// followed by a Gateway default/gw.
func apDoc(spec string) string {
	return "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap}\nspec:\n" + spec +
		"---\n" + gwDoc("  - port: {number: 80, protocol: HTTP}\n    hosts: [\"*\"]\n")
}

func TestValidateAuthorizationPolicy(t *testing.T) {
	validateCases(t, map[string]validateCase{
		"ALLOW with every supported key": {
			yaml: apDoc("  targetRef: {kind: Gateway, group: networking.istio.io, name: gw}\n  rules:\n" +
				"  - from: [{source: {principals: [\"spiffe://example.org/*\"], ipBlocks: [10.0.0.0/8], notRemoteIpBlocks: [\"192.0.2.1\"]}}]\n" +
				"    to: [{operation: {hosts: [a.example.com], ports: [\"443\"], methods: [GET], paths: [/api/*]}}]\n" +
				"    when:\n    - {key: \"request.headers[x-tenant]\", values: [a]}\n    - {key: source.principal, values: [p]}\n" +
				"    - {key: source.ip, values: [10.0.0.1]}\n    - {key: remote.ip, notValues: [10.0.0.0/8]}\n" +
				"    - {key: connection.sni, values: [a.example.com]}\n    - {key: destination.port, values: [\"443\"]}\n"),
		},
		"actions": {
			yaml: apDoc("  action: AUDIT\n") + "---\n" +
				"apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: ap2}\nspec:\n  action: LOG\n",
			want: []string{
				"case.yaml:5: AuthorizationPolicy default/ap: spec.action: action AUDIT is not supported by trustgate: it needs Istio's telemetry",
				`case.yaml:20: AuthorizationPolicy default/ap2: spec.action: action "LOG" is not one of ALLOW, DENY`,
			},
		},
		"DENY needs rules": {
			yaml: apDoc("  action: DENY\n"),
			want: []string{"case.yaml:4: AuthorizationPolicy default/ap: spec.rules: a DENY policy needs rules"},
		},
		// Istio accepts a Gateway target only as group gateway.networking.k8s.io
		// (pkg/config/validation: allowedTargetRefs), without a namespace.
		"Istio's targetRef form": {
			yaml: apDoc("  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n"),
		},
		"Istio's targetRefs form": {
			yaml: apDoc("  targetRefs:\n  - {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n  - {group: networking.istio.io, kind: Gateway, name: gw}\n"),
		},
		"selector and targetRefs": {
			yaml: apDoc("  selector: {matchLabels: {istio: ingressgateway}}\n  targetRef: {kind: Gateway, name: gw}\n  targetRefs:\n  - {kind: Service, name: gw}\n  - {kind: Gateway, group: gateway.networking.k8s.io, name: gw}\n  - {kind: Gateway, name: gw2}\n  - {kind: Gateway, name: gw, namespace: default}\n  - {kind: Gateway, group: example.com, name: gw}\n"),
			want: []string{
				"case.yaml:5: AuthorizationPolicy default/ap: spec.selector: set only one of selector and targetRef(s)",
				"case.yaml:6: AuthorizationPolicy default/ap: spec.targetRef: set only one of targetRef and targetRefs",
				`case.yaml:8: AuthorizationPolicy default/ap: spec.targetRefs[0].kind: kind "Service" is not supported; the target must be a Gateway`,
				`case.yaml:10: AuthorizationPolicy default/ap: spec.targetRefs[2].name: gateway "default/gw2" not found (did you mean "default/gw"?)`,
				`case.yaml:12: AuthorizationPolicy default/ap: spec.targetRefs[4].group: group "example.com" is not supported; a Gateway target has group gateway.networking.k8s.io, as Istio requires`,
			},
		},
		// Istio rejects targetRef.namespace: a policy governs its own namespace.
		"cross-namespace target": {
			yaml: apDoc("  targetRefs:\n  - {group: gateway.networking.k8s.io, kind: Gateway, name: gw, namespace: other}\n  - {kind: Gateway, name: gw, namespace: other}\n") +
				"---\n" + strings.Replace(gwDoc("  - port: {number: 80, protocol: HTTP}\n    hosts: [\"*\"]\n"), "  name: gw\n", "  name: gw\n  namespace: other\n", 1),
			want: []string{
				`case.yaml:6: AuthorizationPolicy default/ap: spec.targetRefs[0].namespace: an AuthorizationPolicy targets Gateways in its own namespace "default", not "other" (Istio rejects a targetRef namespace); move the policy to namespace "other"`,
				`case.yaml:7: AuthorizationPolicy default/ap: spec.targetRefs[1].namespace: an AuthorizationPolicy targets Gateways in its own namespace "default", not "other" (Istio rejects a targetRef namespace); move the policy to namespace "other"`,
			},
		},
		"sources, operations and conditions": {
			yaml: apDoc("  rules:\n  - from: [{source: {}}, {source: {ipBlocks: [10.0.0.0/40, nope]}}]\n    to: [{operation: {}}, {operation: {ports: [\"0\", https]}}]\n" +
				"    when:\n    - {key: \"request.auth.claims[iss]\", values: [x]}\n    - {key: \"request.headers[]\", values: [x]}\n    - {key: source.ip, values: [bad]}\n    - {key: destination.port, notValues: [\"99999\"]}\n    - {key: connection.sni}\n"),
			want: []string{
				"case.yaml:6: AuthorizationPolicy default/ap: spec.rules[0].from[0].source: source has no fields; remove it or set one",
				`case.yaml:6: AuthorizationPolicy default/ap: spec.rules[0].from[1].source.ipBlocks[0]: "10.0.0.0/40" is not a CIDR block`,
				`case.yaml:6: AuthorizationPolicy default/ap: spec.rules[0].from[1].source.ipBlocks[1]: "nope" is not an IP address or CIDR block`,
				`case.yaml:7: AuthorizationPolicy default/ap: spec.rules[0].to[0].operation: operation has no fields; remove it or set one`,
				`case.yaml:7: AuthorizationPolicy default/ap: spec.rules[0].to[1].operation.ports[0]: port "0" is not a number between 1 and 65535`,
				`case.yaml:7: AuthorizationPolicy default/ap: spec.rules[0].to[1].operation.ports[1]: port "https" is not a number between 1 and 65535`,
				`case.yaml:9: AuthorizationPolicy default/ap: spec.rules[0].when[0].key: key "request.auth.claims[iss]" is not supported; use one of request.headers[NAME], source.principal, source.ip, remote.ip, connection.sni, destination.port`,
				`case.yaml:10: AuthorizationPolicy default/ap: spec.rules[0].when[1].key: key "request.headers[]" must read request.headers[NAME]`,
				`case.yaml:11: AuthorizationPolicy default/ap: spec.rules[0].when[2].values[0]: "bad" is not an IP address or CIDR block`,
				`case.yaml:12: AuthorizationPolicy default/ap: spec.rules[0].when[3].notValues[0]: port "99999" is not a number between 1 and 65535`,
				"case.yaml:13: AuthorizationPolicy default/ap: spec.rules[0].when[4]: at least one of values and notValues is required",
			},
		},
	})
}

func TestValidateSecret(t *testing.T) {
	p := getPKI(t)
	validateCases(t, map[string]validateCase{
		"a valid kubernetes.io/tls secret": {
			yaml: secretDoc("web", "s", map[string][]byte{"tls.crt": p.Cert, "tls.key": p.Key}) + "type: kubernetes.io/tls\n",
		},
		"type": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/dockerconfigjson\n---\n" +
				"apiVersion: v1\nkind: Secret\nmetadata: {name: t}\ntype: kubernetes.io/tls\nstringData: {tls.key: \"\"}\n",
			want: []string{
				`case.yaml:4: Secret default/s: type: type "kubernetes.io/dockerconfigjson" does not hold certificates; use Opaque or kubernetes.io/tls`,
				"case.yaml:6: Secret default/t: data: a kubernetes.io/tls secret needs key tls.crt",
				`case.yaml:10: Secret default/t: stringData.tls.key: no PEM "PRIVATE KEY" block found`,
			},
		},
		"PEM of the wrong kind": {
			yaml: secretDoc("web", "s", map[string][]byte{"tls.crt": []byte("not pem"), "tls.key": p.Cert, "ca.crt": p.CA, "ca.crl": p.CA}),
			want: []string{
				`case.yaml:7: Secret web/s: data.ca.crl: PEM block 1 is "CERTIFICATE"; expected "X509 CRL"`,
				`case.yaml:9: Secret web/s: data.tls.crt: no PEM "CERTIFICATE" block found`,
				`case.yaml:10: Secret web/s: data.tls.key: PEM block 1 is "CERTIFICATE"; expected "PRIVATE KEY"`,
			},
		},
	})
}
