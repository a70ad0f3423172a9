package envoymodel_test

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
)

// principalAllow is a MUTUAL host whose ALLOW policy names alice's URI SAN:
// Envoy checks it with the mtls_authenticated principal, which needs a
// validated certificate.
const principalAllow = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["api.example.com"]
    tls: {mode: MUTUAL, credentialName: server, caCertCredentialName: client-ca}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: edge}
spec:
  hosts: ["api.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: api.internal, port: {number: 8080}}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: alice, namespace: edge}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["spiffe://example.com/alice"]}}]
`

// setResumption sets both session-resumption switches on every downstream
// TLS context.
func setResumption(t *testing.T, res *envoymodel.Resources, disabled bool) {
	t.Helper()
	for _, l := range res.Listeners {
		for _, fc := range l.GetFilterChains() {
			ts := fc.GetTransportSocket()
			if ts == nil {
				continue
			}
			ctx := &tlsv3.DownstreamTlsContext{}
			if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
				t.Fatal(err)
			}
			ctx.SessionTicketKeysType = &tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption{DisableStatelessSessionResumption: disabled}
			ctx.DisableStatefulSessionResumption = disabled
			a, err := anypb.New(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ts.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
		}
	}
}

// TestResumption: a resumed session carries the certificate but Envoy
// reports it not validated, so mtls_authenticated fails; with both
// resumption switches off every connection is a full handshake.
func TestResumption(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	cases := map[string]struct {
		disabled bool
		resumed  bool
		want     want
	}{
		"full handshake is allowed":                     {want: want{verdict: envoymodel.Routed}},
		"resumed session is denied":                     {resumed: true, want: want{verdict: envoymodel.Denied, status: 403}},
		"resumption off: the retry is a full handshake": {disabled: true, resumed: true, want: want{verdict: envoymodel.Routed}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := envoymodeltest.CompileYAML(t, p, principalAllow)[0].Resources
			setResumption(t, res, tc.disabled)
			m, err := envoymodel.New(res, envoymodel.Options{Now: p.Now})
			if err != nil {
				t.Fatal(err)
			}
			s := scenario{port: 443, sni: "api.example.com", cert: envoymodeltest.Alice, resumed: tc.resumed, host: "api.example.com", want: tc.want}
			tr := s.run(t, p, m)
			s.want.check(t, tr)
			if tr.Peer.Resumed != (tc.resumed && !tc.disabled) {
				t.Errorf("peer.resumed = %v", tr.Peer.Resumed)
			}
		})
	}
}

// depthPolicy is a MUTUAL host with a verifyDepth; the PKI's clients are
// signed by an intermediate under the root, and the CA bundle holds both.
const depthPolicy = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: api
    port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["api.example.com"]
    tls: {mode: MUTUAL, credentialName: server, caCertCredentialName: client-ca}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: api, namespace: edge}
spec:
  targetRef: {kind: Gateway, name: gw}
  verifyDepth: DEPTH
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: edge}
spec:
  hosts: ["api.example.com"]
  gateways: [gw]
  http:
  - route: [{destination: {host: api.internal, port: {number: 8080}}}]
`

// TestVerifyDepth: verifyDepth has nginx's meaning (ssl_verify_depth, as
// OpenSSL 1.1 counts it: the intermediates allowed between the leaf and the
// trust anchor). Envoy's max_verify_depth counts the trust anchor too
// (default_validator.cc, addClientValidationContext passes
// max_verify_depth-1 to BoringSSL as the intermediates allowed), and the
// path runs up to the self-signed root even when the bundle also holds the
// intermediate. The PKI's clients sit under one intermediate: nginx accepts
// them at ssl_verify_depth 1 and refuses them at 0.
func TestVerifyDepth(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	cases := map[string]want{
		"0": {verdict: envoymodel.HandshakeFailed, reason: "certificate chain too long"},
		"1": {verdict: envoymodel.Routed},
		"2": {verdict: envoymodel.Routed},
	}
	for depth, w := range cases {
		t.Run("verifyDepth "+depth, func(t *testing.T) {
			res := envoymodeltest.CompileYAML(t, p, strings.ReplaceAll(depthPolicy, "DEPTH", depth))[0].Resources
			m, err := envoymodel.New(res, envoymodel.Options{Now: p.Now})
			if err != nil {
				t.Fatal(err)
			}
			s := scenario{port: 443, sni: "api.example.com", cert: envoymodeltest.Alice, host: "api.example.com", want: w}
			s.want.check(t, s.run(t, p, m))
		})
	}
}
