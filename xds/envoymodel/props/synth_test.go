package props_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// synthConfig is a MUTUAL host whose client CA bundle holds an
// intermediate and its root, with their CRLs, at most one intermediate
// between client and anchor, a URI SAN matcher, and authorization on the
// certificate from both kinds.
const synthConfig = `
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
  verifyDepth: 1
  subjectAltNames: [{type: URI, prefix: "spiffe://example.com/"}]
  authorization:
    allow: [{name: staff, commonName: [{suffix: ".staff.example.com"}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ops, namespace: edge}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["spiffe://example.com/ops/*"]}}]
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

// TestSynthesize makes the clients for a configuration from twins of its
// client CAs, and checks each against both judges: Envoy's model on the
// twinned resources and the properties' own validation must agree on every
// client, and each kind of client meets the fate it is made for.
func TestSynthesize(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	cfg, groups := envoymodeltest.LoadYAML(t, p, synthConfig)
	in, err := props.ReadIntent(cfg, groups[0].LabelMap)
	if err != nil {
		t.Fatal(err)
	}
	clients, twinned, err := props.Synthesize(in, groups[0].Resources, p.Now)
	if err != nil {
		t.Fatal(err)
	}
	assertTwins(t, groups[0].Resources, twinned)
	m, err := envoymodel.New(twinned, envoymodel.Options{Now: p.Now})
	if err != nil {
		t.Fatal(err)
	}
	api := in.Servers[0]
	want := map[string]string{ // name prefix -> Envoy's verdict on the chain
		"plain (":                          "rejected: SAN matcher",
		"revoked (":                        "rejected: certificate revoked",
		"expired (":                        "rejected: certificate has expired",
		"through an intermediate CA":       "rejected: path length constraint exceeded", // the PKI's intermediate has pathlen 0
		"another CA (":                     "rejected: unable to get local issuer certificate",
		"matching subjectAltNames":         "validated",
		"matching ClientCertificatePolicy": "validated",
		"matching AuthorizationPolicy":     "validated",
	}
	seen := map[string]int{}
	for _, cl := range clients {
		tr := m.Explain(envoymodel.Connection{Port: 443, TLS: true, SNI: "api.example.com", ClientChain: cl.Chain}, envoymodel.Request{Authority: "api.example.com", Path: "/"})
		got := string(tr.ClientCertificate)
		if tr.ClientCertificate == envoymodel.CertRejected {
			got += ": " + tr.Reason
		}
		accepted, why := api.Validation.Accepts(cl.Chain, p.Now)
		if accepted != (tr.ClientCertificate == envoymodel.CertValidated) {
			t.Errorf("%s: Envoy's model says %s, the properties' validation says accepted=%v (%s)", cl.Name, got, accepted, why)
		}
		key := ""
		for k := range want {
			if strings.HasPrefix(cl.Name, k) {
				key = k
			}
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected client %q", cl.Name)
			continue
		}
		seen[key]++
		if verdict, detail, _ := strings.Cut(w, ": "); !strings.HasPrefix(got, verdict) || !strings.Contains(got, detail) {
			t.Errorf("%s: got %s, want %s", cl.Name, got, w)
		}
	}
	for key := range want {
		if seen[key] == 0 {
			t.Errorf("no client %q… made; clients: %v", key, names(clients))
		}
	}
}

// assertTwins: every CA and CRL of the validation contexts was replaced by
// a twin with the same subject, validity and serial; each twin CRL lists
// every serial of the original and one more.
func assertTwins(t *testing.T, orig, twinned *envoymodel.Resources) {
	t.Helper()
	for i, s := range orig.Secrets {
		vc := s.GetValidationContext()
		if vc == nil {
			continue
		}
		oc, tc := certsOf(t, vc.GetTrustedCa().GetInlineBytes()), certsOf(t, twinned.Secrets[i].GetValidationContext().GetTrustedCa().GetInlineBytes())
		if len(oc) == 0 || len(oc) != len(tc) {
			t.Fatalf("secret %s: %d CAs, twinned %d", s.GetName(), len(oc), len(tc))
		}
		for j := range oc {
			if bytes.Equal(oc[j].Raw, tc[j].Raw) || !bytes.Equal(oc[j].RawSubject, tc[j].RawSubject) || !oc[j].NotAfter.Equal(tc[j].NotAfter) || oc[j].SerialNumber.Cmp(tc[j].SerialNumber) != 0 {
				t.Errorf("secret %s CA %d: twin %s is not a twin of %s", s.GetName(), j, tc[j].Subject, oc[j].Subject)
			}
		}
		ol, tl := crlsOf(t, vc.GetCrl().GetInlineBytes()), crlsOf(t, twinned.Secrets[i].GetValidationContext().GetCrl().GetInlineBytes())
		if len(ol) != len(tl) {
			t.Fatalf("secret %s: %d CRLs, twinned %d", s.GetName(), len(ol), len(tl))
		}
		for j := range ol {
			if len(tl[j].RevokedCertificateEntries) != len(ol[j].RevokedCertificateEntries)+1 || !ol[j].NextUpdate.Equal(tl[j].NextUpdate) {
				t.Errorf("secret %s CRL %d: %d entries, twin %d", s.GetName(), j, len(ol[j].RevokedCertificateEntries), len(tl[j].RevokedCertificateEntries))
			}
		}
	}
}

// TestSynthesizedGoldenCases runs the properties on every golden case as
// `trustgate check` does: bounded, with synthesized clients only. Every
// property holds, and every HTTP server that asks for client certificates
// without pinning them saw a synthesized client pass Envoy's verification;
// a server that pins is reported unverified.
func TestSynthesizedGoldenCases(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	for _, path := range envoymodeltest.GoldenCases(t) {
		cfg, groups := envoymodeltest.LoadGolden(t, p, path)
		for _, g := range groups {
			r, err := props.Run(cfg, g.LabelMap, g.Resources, props.Bounded().With(nil, p.Now))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if r.Probes == 0 {
				t.Errorf("%s [%s]: no probe", filepath.Base(path), g.Labels)
			}
			for _, s := range r.Unverified {
				if v := s.Validation; len(v.SPKI)+len(v.Hash) == 0 {
					t.Errorf("%s [%s]: no synthesized client was verified on %s/%s (clients: %v)", filepath.Base(path), g.Labels, s.Gateway, s.Name, names(r.Clients))
				}
			}
			if pinned := pinnedServers(t, cfg, g.LabelMap); len(r.Unverified) != pinned {
				t.Errorf("%s [%s]: %d unverified servers, want the %d that pin certificates", filepath.Base(path), g.Labels, len(r.Unverified), pinned)
			}
			for _, v := range r.Violations {
				t.Errorf("%s [%s]: %s", filepath.Base(path), g.Labels, v)
			}
		}
	}
}

// pinnedServers counts the group's HTTPS servers that pin client
// certificates.
func pinnedServers(t *testing.T, cfg *model.Config, labels map[string]string) int {
	t.Helper()
	in, err := props.ReadIntent(cfg, labels)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range in.Servers {
		if v := s.Validation; v != nil && s.Mode != "PASSTHROUGH" && (s.Protocol == "HTTPS" || s.Protocol == "HTTP2") && len(v.SPKI)+len(v.Hash) > 0 {
			n++
		}
	}
	return n
}

// names lists client names.
func names(cs []props.Client) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// certsOf parses a PEM bundle's certificates.
func certsOf(t *testing.T, b []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// crlsOf parses a PEM bundle's CRLs.
func crlsOf(t *testing.T, b []byte) []*x509.RevocationList {
	t.Helper()
	var out []*x509.RevocationList
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		l, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// synthMutations are the mutation check's defects as `trustgate check`
// meets them: bounded probes and synthesized clients only. dns-wildcard-san
// is not among them: its configuration has an exact DNS SAN without
// noWildcard, which the ClientCertificatePolicy documents as following
// Envoy's wildcard rules, so check makes no wildcard certificate for it
// (it makes one for each noWildcard matcher).
var synthMutations = map[string]mutation{
	"host-bypass":             {prop: props.PropMutual, conn: "SNI w1.example.com, certificate none", req: "Host admin.example.com"},
	"host-bypass/misdirected": {file: "host-bypass", prop: props.PropMisdirected, conn: "SNI w1.example.com", req: "Host admin.example.com"},
	"resumption":              {prop: props.PropAuthz, conn: "certificate matching AuthorizationPolicy edge/alice", req: "Host api.example.com", fix: disableResumption},
	"derived-header":          {prop: props.PropAuthz, conn: "certificate none", req: "ssl-client-verify: SUCCESS"},
	"plaintext-port":          {prop: props.PropIdentity, conn: "port 80, plaintext", req: "x-client-subject: forged-by-client"},
	"allow-hides-421":         {prop: props.PropRejection, conn: "certificate none", req: "Host portal.example.com"},
	"sni-no-inspector":        {prop: props.PropAuthz, conn: "SNI any.example.net", req: "Host any.example.net", fix: addInspector},
}

// TestMutationsSynthesized is TestMutations with the clients `trustgate
// check` makes: each pre-fix defect is caught, and holds once fixed.
func TestMutationsSynthesized(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	labels := map[string]string{"istio": "ingressgateway"}
	for name, mu := range synthMutations {
		t.Run(name, func(t *testing.T) {
			file := name
			if mu.file != "" {
				file = mu.file
			}
			cfgPath := filepath.Join("testdata", "prefix", file+".yaml")
			res := envoymodeltest.LoadFixture(t, p, filepath.Join("testdata", "prefix", file+".fixture.yaml"))
			r, err := props.Run(loadIntent(t, p, cfgPath), labels, res, props.Bounded().With(nil, p.Now))
			if err != nil {
				t.Fatal(err)
			}
			v, ok := caught(r.Violations, mu)
			if !ok {
				t.Fatalf("%s did not catch the defect with %q / %q; violations:\n%s", mu.prop, mu.conn, mu.req, list(r.Violations))
			}
			t.Logf("caught: %s", v)
			if mu.fix == nil {
				return
			}
			mu.fix(t, res)
			if r, err = props.Run(loadIntent(t, p, cfgPath), labels, res, props.Bounded().With(nil, p.Now)); err != nil {
				t.Fatal(err)
			}
			for _, v := range r.Violations {
				if v.Property == mu.prop {
					t.Errorf("after the fix, %s still fails: %s", mu.prop, v)
				}
			}
		})
	}
}
