package irbuild

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/trustgate/trustgate/xds/ir"
)

// derivedPolicy is an ALLOW AuthorizationPolicy on gw/gw whose one rule has
// the given `when` entries (YAML, each indented four spaces).
func derivedPolicy(when string) string {
	return `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: d, namespace: gw}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
  rules:
  - to: [{operation: {paths: [/admin]}}]
    when:
` + when
}

// certPolicy is a ClientCertificatePolicy on gw/gw with the given spec lines
// (indented two spaces).
func certPolicy(spec string) string {
	return `---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: c, namespace: gw}
spec:
  targetRef: {kind: Gateway, name: gw}
` + spec
}

// A condition on a header the gateway derives from the connection is judged
// by RBAC on the client's own copy (RBAC runs in decodeHeaders, before the
// router applies route header changes), so it is rewritten to the connection
// fact the header stands for, or refused.
func TestDerivedHeaderConditions(t *testing.T) {
	presented := ir.Condition{Key: ir.CondCertPresented, Values: []ir.StringMatch{{Present: true}}}
	notPresented := ir.Condition{Key: ir.CondCertPresented, NotValues: []ir.StringMatch{{Present: true}}}
	never := ir.Condition{Key: ir.CondCertPresented, Values: []ir.StringMatch{{Present: true}}, NotValues: []ir.StringMatch{{Present: true}}}
	nginx := certPolicy("  identityHeaders: {ingressNginx: true}\n")
	tests := map[string]struct {
		mode, extra string
		want        []ir.Condition // the rule's When after the build
		wantErr     string         // instead, an error containing this
	}{
		// The case: a client without a certificate sends the header.
		"ssl-client-verify SUCCESS, OPTIONAL_MUTUAL, ingressNginx": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", values: [SUCCESS]}\n"),
			want: []ir.Condition{presented},
		},
		"header names are case-insensitive": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[SSL-Client-Verify]\", values: [SUCCESS]}\n"),
			want: []ir.Condition{presented},
		},
		"ssl-client-verify NONE": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", values: [NONE]}\n"),
			want: []ir.Condition{notPresented},
		},
		"ssl-client-verify notValues SUCCESS": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", notValues: [SUCCESS]}\n"),
			want: []ir.Condition{notPresented},
		},
		"ssl-client-verify notValues NONE": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", notValues: [NONE]}\n"),
			want: []ir.Condition{presented},
		},
		"ssl-client-verify FAILED never happens": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", values: [FAILED]}\n"),
			want: []ir.Condition{never},
		},
		"ssl-client-verify SUCC* prefix": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", values: [\"SUCC*\"]}\n"),
			want: []ir.Condition{presented},
		},
		"ssl-client-verify present always holds": {
			mode: "OPTIONAL_MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", values: [\"*\"]}\n    - {key: \"request.headers[x-other]\", values: [kept]}\n"),
			want: []ir.Condition{{Key: ir.CondRequestHeader, Header: "x-other", Values: []ir.StringMatch{{Exact: "kept"}}}},
		},
		"ssl-client-verify without ingressNginx on the chain": {
			mode: "OPTIONAL_MUTUAL", extra: derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", values: [SUCCESS]}\n"),
			want: []ir.Condition{presented},
		},
		"ssl-client-verify, MUTUAL": {
			mode: "MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-verify]\", values: [SUCCESS]}\n"),
			want: []ir.Condition{presented},
		},
		"ssl-client-subject-dn": {
			mode: "MUTUAL", extra: derivedPolicy("    - {key: \"request.headers[ssl-client-subject-dn]\", values: [\"CN=a,O=Example\"], notValues: [\"CN=b*\"]}\n"),
			want: []ir.Condition{{Key: ir.CondCertSubject, Values: []ir.StringMatch{{Exact: "CN=a,O=Example"}}, NotValues: []ir.StringMatch{{Prefix: "CN=b"}}}},
		},
		"ssl-client-issuer-dn": {
			mode: "MUTUAL", extra: nginx + derivedPolicy("    - {key: \"request.headers[ssl-client-issuer-dn]\", values: [\"CN=CA\"]}\n"),
			want: []ir.Condition{{Key: ir.CondCertIssuer, Values: []ir.StringMatch{{Exact: "CN=CA"}}}},
		},
		"another ssl-client- header": {
			mode: "MUTUAL", extra: derivedPolicy("    - {key: \"request.headers[ssl-client-cert]\", values: [\"*\"]}\n"),
			wantErr: "spec.rules[0].when[0]: request.headers[ssl-client-cert]",
		},
		"identity header subject": {
			mode: "MUTUAL", extra: certPolicy("  identityHeaders: {subject: X-Client-Subject}\n") + derivedPolicy("    - {key: \"request.headers[x-client-subject]\", notValues: [\"CN=evil\"]}\n"),
			want: []ir.Condition{{Key: ir.CondCertSubject, NotValues: []ir.StringMatch{{Exact: "CN=evil"}}}},
		},
		"identity header DNS SAN: literal, as the header would be": {
			mode: "MUTUAL", extra: certPolicy("  identityHeaders: {dnsSan: x-client-dns}\n") + derivedPolicy("    - {key: \"request.headers[x-client-dns]\", values: [ab.io]}\n"),
			want: []ir.Condition{{Key: ir.CondCertDNSSAN, Values: []ir.StringMatch{{Regex: `[aA][bB]\.[iI][oO]`}}}},
		},
		"identity header serial has no authorization field": {
			mode: "MUTUAL", extra: certPolicy("  identityHeaders: {serial: x-client-serial}\n") + derivedPolicy("    - {key: \"request.headers[x-client-serial]\", values: [\"01\"]}\n"),
			wantErr: "spec.rules[0].when[0]: request.headers[x-client-serial]",
		},
		"XFCC removed by the gateway (SANITIZE)": {
			mode: "MUTUAL", extra: certPolicy("  forwardClientCert: {mode: SANITIZE}\n") + derivedPolicy("    - {key: \"request.headers[x-forwarded-client-cert]\", values: [\"*\"]}\n"),
			wantErr: "spec.rules[0].when[0]: request.headers[x-forwarded-client-cert]",
		},
		"XFCC forwarded from the client (FORWARD_ONLY)": {
			mode: "MUTUAL", extra: certPolicy("  forwardClientCert: {mode: FORWARD_ONLY}\n") + derivedPolicy("    - {key: \"request.headers[X-Forwarded-Client-Cert]\", values: [\"Hash=*\"]}\n"),
			wantErr: "spec.rules[0].when[0]: request.headers[x-forwarded-client-cert]",
		},
		"XFCC appended to the client's (APPEND_FORWARD)": {
			mode: "MUTUAL", extra: certPolicy("  forwardClientCert: {mode: APPEND_FORWARD}\n") + derivedPolicy("    - {key: \"request.headers[x-forwarded-client-cert]\", values: [\"*\"]}\n"),
			wantErr: "spec.rules[0].when[0]: request.headers[x-forwarded-client-cert]",
		},
		// The connection manager sets it before any HTTP filter runs
		// (mutateXfccRequestHeader), so RBAC judges the gateway's own value.
		"XFCC set by the gateway (SANITIZE_SET) is the gateway's own": {
			mode: "MUTUAL", extra: certPolicy("  forwardClientCert: {mode: SANITIZE_SET}\n") + derivedPolicy("    - {key: \"request.headers[x-forwarded-client-cert]\", values: [\"Hash=*\"]}\n"),
			want: []ir.Condition{{Key: ir.CondRequestHeader, Header: "x-forwarded-client-cert", Values: []ir.StringMatch{{Prefix: "Hash="}}}},
		},
		"XFCC by default (SANITIZE_SET on TLS chains, as Istio's gateways)": {
			mode: "OPTIONAL_MUTUAL", extra: derivedPolicy("    - {key: \"request.headers[x-forwarded-client-cert]\", notValues: [\"*\"]}\n"),
			want: []ir.Condition{{Key: ir.CondRequestHeader, Header: "x-forwarded-client-cert", NotValues: []ir.StringMatch{{Present: true}}}},
		},
		"a peer formatter set on another server of the proxy": {
			mode: "MUTUAL", extra: `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other, namespace: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["other.example.org"]
    tls: {mode: MUTUAL, credentialName: cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: other, namespace: gw}
spec:
  hosts: ["other.example.org"]
  gateways: [other]
  http:
  - route:
    - destination: {host: other.gw.svc.cluster.local, port: {number: 8080}}
    headers:
      request:
        set: {x-peer-uri: "%DOWNSTREAM_PEER_URI_SAN%"}
` + derivedPolicy("    - {key: \"request.headers[x-peer-uri]\", values: [\"spiffe://example.org/admin\"]}\n"),
			want: []ir.Condition{{Key: ir.CondCertURISAN, Values: []ir.StringMatch{{Exact: "spiffe://example.org/admin"}}}},
		},
		"a plain request header is left alone": {
			mode: "MUTUAL", extra: derivedPolicy("    - {key: \"request.headers[x-tenant]\", values: [a]}\n"),
			want: []ir.Condition{{Key: ir.CondRequestHeader, Header: "x-tenant", Values: []ir.StringMatch{{Exact: "a"}}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := buildYAML(t, tc.mode, tc.extra)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []ir.Condition
			for _, c := range p.Listeners {
				for _, ch := range c.Chains {
					if ch.RBAC != nil && strings.Contains(ch.Name, "gw.gw") {
						for _, r := range ch.RBAC.Allow {
							if r.Name == "ns[gw]-policy[d]-rule[0]" {
								got = r.When
							}
						}
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("When (-want +got):\n%s", diff)
			}
		})
	}
}
