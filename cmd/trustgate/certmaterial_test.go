package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// toDER rewrites a PEM file of the secrets directory as the DER of its
// blocks, concatenated, as downloaded CRLs and Windows exports come.
func toDER(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var der []byte
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		der = append(der, blk.Bytes...)
	}
	if len(der) == 0 || bytes.Contains(der, []byte("-----BEGIN")) {
		t.Fatalf("%s: no PEM to convert", path)
	}
	if err := os.WriteFile(path, der, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDERSecretsReachEnvoyAsPEM: a secrets directory holding DER only
// passes check, and every certificate, key, CA and CRL reaches Envoy as PEM,
// the only form Envoy reads.
func TestDERSecretsReachEnvoyAsPEM(t *testing.T) {
	cfgFile, secrets := cliFixture(t, "app.example.com")
	if err := certs.WriteCRLs(secrets, certs.CRLOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{certs.FileCert, certs.FileKey, certs.FileCA, certs.FileCRL} {
		toDER(t, filepath.Join(secrets, "gw", f))
	}
	if code, stdout, stderr := runCapture("check", "--config", cfgFile, "--secrets-dir", secrets); code != 0 {
		t.Fatalf("check: exit %d\n%s%s", code, stdout, stderr)
	}
	cfg, err := compile.Load(model.LoadOptions{Paths: []string{cfgFile}, SecretsDirs: []string{secrets}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cfg.Compile(map[string]string{"istio": "ingressgateway"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range res.Secrets {
		tc, vc := s.GetTlsCertificate(), s.GetValidationContext()
		for what, b := range map[string][]byte{
			"certificate chain": tc.GetCertificateChain().GetInlineBytes(), "private key": []byte(tc.GetPrivateKey().GetInlineString()),
			"trusted CA": vc.GetTrustedCa().GetInlineBytes(), "CRL": vc.GetCrl().GetInlineBytes(),
		} {
			if len(b) == 0 {
				continue
			}
			blk, _ := pem.Decode(b)
			if blk == nil {
				t.Errorf("%s %s is not PEM: % x...", s.GetName(), what, b[:8])
				continue
			}
			got[what] = blk.Type
		}
	}
	want := map[string]string{"certificate chain": "CERTIFICATE", "private key": "PRIVATE KEY", "trusted CA": "CERTIFICATE", "CRL": "X509 CRL"}
	for what, typ := range want {
		if got[what] != typ {
			t.Errorf("%s reaches Envoy as %q, want a PEM %q block", what, got[what], typ)
		}
	}
}

// TestCheckWarnsAboutACRLNearItsNextUpdate: check warns when a CRL is in
// its warning window, and says how to renew it; a PKI that never asked for
// a CRL has none to warn about.
func TestCheckWarnsAboutACRLNearItsNextUpdate(t *testing.T) {
	tests := map[string]struct {
		crl  *certs.CRLOptions
		want string // in check's output; "" for no CRL finding at all
	}{
		"no CRL was asked for": {},
		"a fresh CRL":          {crl: &certs.CRLOptions{Days: 30}},
		"a 3-day CRL with 12 hours left": {
			crl:  &certs.CRLOptions{Days: 3, Now: time.Now().Add(-60 * time.Hour)},
			want: "reaches its nextUpdate on",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfgFile, secrets := cliFixture(t, "app.example.com")
			if tc.crl != nil {
				if err := certs.WriteCRLs(secrets, *tc.crl); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := runCapture("check", "--config", cfgFile, "--secrets-dir", secrets)
			if code != 0 {
				t.Fatalf("check: exit %d\n%s%s", code, stdout, stderr)
			}
			switch {
			case tc.want == "" && strings.Contains(stdout, "CRL"):
				t.Errorf("check reports a CRL:\n%s", stdout)
			case tc.want != "" && (!strings.Contains(stdout, "warning") || !strings.Contains(stdout, tc.want) || !strings.Contains(stdout, "trustgate certs crl")):
				t.Errorf("check output lacks a warning with %q and the renewal command:\n%s", tc.want, stdout)
			}
		})
	}
}
