package explain_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/explain"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
)

// kymaConfig loads the golden Kyma case (seed 003's scenario: an ALLOW on
// the client's X-Client-Ssl-Cn) as serve would, for its only proxy group.
func kymaConfig(t *testing.T, p *envoymodeltest.PKI) (*compile.Config, compile.Node) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "kyma.yaml")
	writeExpanded(t, p, filepath.Join(envoymodeltest.Root(), "compile", "testdata", "kyma.in.yaml"), src)
	cfg, err := compile.Load(model.LoadOptions{Paths: []string{src}, SecretsDirs: []string{p.Dir}}, compile.ForServe())
	if err != nil {
		t.Fatal(err)
	}
	sels := cfg.Selectors()
	if len(sels) != 1 {
		t.Fatalf("%d selectors", len(sels))
	}
	return cfg, compile.Node{Labels: sels[0]}
}

// TestExplainKyma runs seed 003's scenarios.
func TestExplainKyma(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	cfg, node := kymaConfig(t, p)
	const host = "httpbin.example.com"
	cases := map[string]struct {
		q       explain.Query
		verdict envoymodel.Verdict
		status  int
	}{
		"the allowed subject reaches httpbin": {q: explain.Query{Port: 443, SNI: host, CertFile: p.Dir + "/client/tls.crt"}, verdict: envoymodel.Routed},
		"another subject is denied":           {q: explain.Query{Port: 443, SNI: host, CertFile: p.Dir + "/alice/tls.crt"}, verdict: envoymodel.Denied, status: 403},
		"no certificate fails the handshake":  {q: explain.Query{Port: 443, SNI: host}, verdict: envoymodel.HandshakeFailed},
		"a forged X-Client-Ssl-Cn is not believed": {q: explain.Query{Port: 443, SNI: host, CertFile: p.Dir + "/alice/tls.crt",
			Headers: []string{"X-Client-Ssl-Cn: CN=client,O=Example"}}, verdict: envoymodel.Denied, status: 403},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tr, err := explain.Explain(cfg, node, tc.q, p.Now)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Verdict != tc.verdict || tr.Status != tc.status {
				t.Fatalf("verdict %s %d, want %s %d: %s", tr.Verdict, tr.Status, tc.verdict, tc.status, tr.Reason)
			}
			var js bytes.Buffer
			if err := explain.JSON(&js, tr); err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := json.Unmarshal(js.Bytes(), &obj); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"verdict", "status", "reason", "listener", "filterChain", "clientCertificate", "route", "cluster", "upstreamHeaders", "policies"} {
				if _, ok := obj[k]; !ok {
					t.Errorf("JSON lacks %q", k)
				}
			}
			var text bytes.Buffer
			if err := explain.Text(&text, tr); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "verdict: "+string(tc.verdict)) {
				t.Errorf("text lacks the verdict:\n%s", text.String())
			}
		})
	}
}
