package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/trustgate/trustgate/certcheck"
)

var now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func read(t *testing.T, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(path...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseAll(t *testing.T, data []byte) ([]*x509.Certificate, []*x509.RevocationList) {
	t.Helper()
	var certs []*x509.Certificate
	var crls []*x509.RevocationList
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs, crls
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			certs = append(certs, c)
		case "X509 CRL":
			crl, err := x509.ParseRevocationList(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			crls = append(crls, crl)
		default:
			t.Fatalf("unexpected block %q", block.Type)
		}
	}
}

// verify checks that the chain in certPEM verifies against the roots among
// caPEM (the other CAs count as intermediates) for the given usage.
func verify(t *testing.T, certPEM, caPEM []byte, dnsName string, usage x509.ExtKeyUsage) {
	t.Helper()
	chain, _ := parseAll(t, certPEM)
	cas, _ := parseAll(t, caPEM)
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range cas {
		if string(c.RawIssuer) == string(c.RawSubject) {
			roots.AddCert(c)
		} else {
			inter.AddCert(c)
		}
	}
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: dnsName, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		t.Fatalf("verify %s: %v", chain[0].Subject, err)
	}
}

func mode(t *testing.T, path ...string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(filepath.Join(path...))
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestInitIssueRevokeCRLRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, InitOptions{Intermediate: true, CRLDays: 7, Now: now}); err != nil {
		t.Fatal(err)
	}
	srv, err := Issue(dir, KindServer, IssueOptions{Name: "api", Hosts: []string{"api.example.com", "*.apps.example.com", "10.0.0.1"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Issue(dir, KindClient, IssueOptions{Name: "alice", CommonName: "alice", URIs: []string{"spiffe://example.org/alice"}, Emails: []string{"alice@example.org"}, Organization: "Team A", Now: now})
	if err != nil {
		t.Fatal(err)
	}

	// Nothing was revoked and no CRL was asked for: no ca.crl anywhere.
	for _, name := range []string{"api", "alice", DefaultCASecretName} {
		if _, err := os.Stat(filepath.Join(dir, name, FileCRL)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s/%s exists before any revocation or CRL request (%v)", name, FileCRL, err)
		}
	}
	if len(srv.CRLPEM) != 0 {
		t.Errorf("Issued.CRLPEM = %q, want none", srv.CRLPEM)
	}
	// The written files are the returned ones; chains verify for their use.
	if diff := cmp.Diff(string(srv.CertPEM), string(read(t, dir, "api", FileCert))); diff != "" {
		t.Errorf("tls.crt (-want +got):\n%s", diff)
	}
	verify(t, srv.CertPEM, read(t, dir, "api", FileCA), "x.apps.example.com", x509.ExtKeyUsageServerAuth)
	verify(t, srv.CertPEM, read(t, dir, "api", FileCA), "10.0.0.1", x509.ExtKeyUsageServerAuth)
	verify(t, cli.CertPEM, read(t, dir, DefaultCASecretName, FileCA), "", x509.ExtKeyUsageClientAuth)
	if got := cli.Cert.URIs[0].String() + " " + cli.Cert.EmailAddresses[0] + " " + cli.Cert.Subject.Organization[0]; got != "spiffe://example.org/alice alice@example.org Team A" {
		t.Errorf("client SANs/O = %q", got)
	}

	// The output passes the diagnosis cleanly.
	srvFindings := certcheck.CheckServing(certcheck.ServingInput{
		Cert: read(t, dir, "api", FileCert), Key: read(t, dir, "api", FileKey), CA: read(t, dir, "api", FileCA),
		Hosts: []string{"api.example.com", "*.apps.example.com"}, Now: now, ExpiryWarning: 24 * time.Hour,
	})
	caIn := certcheck.ClientCAInput{CA: read(t, dir, DefaultCASecretName, FileCA), Now: now}
	if f := append(srvFindings, certcheck.CheckClientCA(caIn)...); len(f) != 0 {
		t.Errorf("findings on fresh output: %v", f)
	}

	// Revoke, then publish.
	serial, err := Revoke(dir, "alice", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(2 * time.Hour)
	if err := WriteCRLs(dir, CRLOptions{Now: later}); err != nil {
		t.Fatal(err)
	}
	cas, _ := parseAll(t, read(t, dir, DefaultCASecretName, FileCA))
	_, crls := parseAll(t, read(t, dir, DefaultCASecretName, FileCRL))
	if len(cas) != 2 || len(crls) != 2 {
		t.Fatalf("client-ca holds %d CAs and %d CRLs, want 2 and 2", len(cas), len(crls))
	}
	for i, crl := range crls {
		// ca.crt and ca.crl list the CAs in the same order: issuer first.
		if err := crl.CheckSignatureFrom(cas[i]); err != nil {
			t.Errorf("CRL %d does not verify against %s: %v", i, cas[i].Subject, err)
		}
		if crl.Number.Int64() != 1 || !crl.NextUpdate.Equal(later.AddDate(0, 0, 7)) {
			t.Errorf("CRL %d: number %v nextUpdate %v, want 1 and %v", i, crl.Number, crl.NextUpdate, later.AddDate(0, 0, 7))
		}
	}
	var revoked []string
	for _, e := range crls[0].RevokedCertificateEntries {
		revoked = append(revoked, e.SerialNumber.String())
	}
	if diff := cmp.Diff([]string{serial.String()}, revoked); diff != "" {
		t.Errorf("intermediate CRL revoked serials (-want +got):\n%s", diff)
	}
	if n := len(crls[1].RevokedCertificateEntries); n != 0 {
		t.Errorf("root CRL lists %d certificates, want none", n)
	}
	infos, err := CRLs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var gotInfo []string
	for _, in := range infos {
		gotInfo = append(gotInfo, fmt.Sprintf("%s #%d %d revoked, %s to %s", in.CA, in.Number, in.Revoked, in.ThisUpdate.Format(time.RFC3339), in.NextUpdate.Format(time.RFC3339)))
	}
	wantInfo := []string{
		"root #1 0 revoked, 2026-01-15T13:55:00Z to 2026-01-22T14:00:00Z",
		"intermediate #1 1 revoked, 2026-01-15T13:55:00Z to 2026-01-22T14:00:00Z",
	}
	if diff := cmp.Diff(wantInfo, gotInfo); diff != "" {
		t.Errorf("CRLs (-want +got):\n%s", diff)
	}
	// Every secret directory got the new CRLs.
	for _, name := range []string{"api", "alice"} {
		if diff := cmp.Diff(string(read(t, dir, DefaultCASecretName, FileCRL)), string(read(t, dir, name, FileCRL))); diff != "" {
			t.Errorf("%s/ca.crl not refreshed (-want +got):\n%s", name, diff)
		}
	}
	caIn = certcheck.ClientCAInput{CA: read(t, dir, DefaultCASecretName, FileCA), CRL: read(t, dir, DefaultCASecretName, FileCRL), Now: later}
	if f := certcheck.CheckClientCA(caIn); len(f) != 0 {
		t.Errorf("findings after revocation: %v", f)
	}
}

func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, InitOptions{Intermediate: true, CRL: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := Issue(dir, KindServer, IssueOptions{Name: "web", Hosts: []string{"web"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path []string
		want fs.FileMode
	}{
		"state directory":   {path: []string{StateDir}, want: 0o700},
		"state index":       {path: []string{StateDir, stateFile}, want: 0o600},
		"root key":          {path: []string{StateDir, "root.key"}, want: 0o600},
		"intermediate key":  {path: []string{StateDir, "intermediate.key"}, want: 0o600},
		"leaf key":          {path: []string{"web", FileKey}, want: 0o600},
		"leaf certificate":  {path: []string{"web", FileCert}, want: 0o644},
		"CA bundle":         {path: []string{"web", FileCA}, want: 0o644},
		"CA secret CRL":     {path: []string{DefaultCASecretName, FileCRL}, want: 0o644},
		"root certificate":  {path: []string{StateDir, "root.crt"}, want: 0o644},
		"secret directory":  {path: []string{"web"}, want: 0o755},
		"CA secret dir CRL": {path: []string{DefaultCASecretName, FileCA}, want: 0o644},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// The umask may only remove bits.
			if got := mode(t, append([]string{dir}, tc.path...)...); got&^tc.want != 0 {
				t.Errorf("mode %v, want at most %v", got, tc.want)
			}
		})
	}
}

func TestIssueLayout(t *testing.T) {
	tests := map[string]struct {
		intermediate bool
		crl          bool
		issuer       string
		wantChain    int // certificates in tls.crt
		wantCAs      int // certificates in ca.crt
		wantCRLs     int // CRLs in ca.crl
	}{
		"root only":                        {wantChain: 1, wantCAs: 1},
		"root only, with a CRL":            {crl: true, wantChain: 1, wantCAs: 1, wantCRLs: 1},
		"intermediate by default":          {intermediate: true, wantChain: 2, wantCAs: 2},
		"intermediate with CRLs":           {intermediate: true, crl: true, wantChain: 2, wantCAs: 2, wantCRLs: 2},
		"root chosen despite intermediate": {intermediate: true, crl: true, issuer: CARoot, wantChain: 1, wantCAs: 1, wantCRLs: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Init(dir, InitOptions{Intermediate: tc.intermediate, CRL: tc.crl, Key: KeyRSA, Now: now}); err != nil {
				t.Fatal(err)
			}
			is, err := Issue(dir, KindServer, IssueOptions{Name: "s", Hosts: []string{"s.example.com"}, Issuer: tc.issuer, Key: KeyRSA, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			chain, _ := parseAll(t, is.CertPEM)
			cas, _ := parseAll(t, is.CAPEM)
			_, crls := parseAll(t, is.CRLPEM)
			if len(chain) != tc.wantChain || len(cas) != tc.wantCAs || len(crls) != tc.wantCRLs {
				t.Errorf("tls.crt %d, ca.crt %d, ca.crl %d; want %d, %d, %d", len(chain), len(cas), len(crls), tc.wantChain, tc.wantCAs, tc.wantCRLs)
			}
			_, err = os.Stat(filepath.Join(is.Dir, FileCRL))
			if exists := err == nil; exists != tc.crl {
				t.Errorf("%s exists: %v, want %v (%v)", FileCRL, exists, tc.crl, err)
			}
			if is.Cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
				t.Error("an RSA server certificate lacks keyEncipherment")
			}
			verify(t, is.CertPEM, is.CAPEM, "s.example.com", x509.ExtKeyUsageServerAuth)
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, InitOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := Issue(dir, KindClient, IssueOptions{Name: "taken", CommonName: "x", Now: now}); err != nil {
		t.Fatal(err)
	}
	server := func(name string, hosts ...string) IssueOptions {
		return IssueOptions{Name: name, Hosts: hosts, Now: now}
	}
	tests := map[string]struct {
		run    func() error
		wantIs error // nil: any error
	}{
		"init twice": {run: func() error { return Init(dir, InitOptions{}) }, wantIs: ErrExists},
		"issue without a PKI": {run: func() error {
			_, err := Issue(t.TempDir(), KindServer, server("a", "a"))
			return err
		}, wantIs: ErrNotFound},
		"name taken": {run: func() error {
			_, err := Issue(dir, KindClient, IssueOptions{Name: "taken", CommonName: "y", Now: now})
			return err
		}, wantIs: ErrExists},
		"intermediate issuer without intermediate": {run: func() error {
			o := server("b", "b")
			o.Issuer = CAIntermediate
			_, err := Issue(dir, KindServer, o)
			return err
		}, wantIs: ErrNotFound},
		"revoke unknown name": {run: func() error {
			_, err := Revoke(dir, "nobody", now)
			return err
		}, wantIs: ErrNotFound},
		"path in the name":        {run: func() error { _, err := Issue(dir, KindServer, server("../x", "a")); return err }},
		"state directory as name": {run: func() error { _, err := Issue(dir, KindServer, server(".pki", "a")); return err }},
		"CA secret name as name":  {run: func() error { _, err := Issue(dir, KindServer, server(DefaultCASecretName, "a")); return err }},
		"server without hosts":    {run: func() error { _, err := Issue(dir, KindServer, server("c")); return err }},
		"bad host":                {run: func() error { _, err := Issue(dir, KindServer, server("d", "a b")); return err }},
		"client without CN":       {run: func() error { _, err := Issue(dir, KindClient, IssueOptions{Name: "e", Now: now}); return err }},
		"relative URI SAN": {run: func() error {
			_, err := Issue(dir, KindClient, IssueOptions{Name: "f", CommonName: "f", URIs: []string{"no-scheme"}})
			return err
		}},
		"unknown kind":             {run: func() error { _, err := Issue(dir, Kind("peer"), server("g", "g")); return err }},
		"unknown key type":         {run: func() error { o := server("h", "h"); o.Key = "dsa"; _, err := Issue(dir, KindServer, o); return err }},
		"negative CRL days":        {run: func() error { return WriteCRLs(dir, CRLOptions{Days: -1}) }},
		"bad CA secret name":       {run: func() error { return Init(t.TempDir(), InitOptions{CASecretName: "Bad Name"}) }},
		"bad namespace for a YAML": {run: func() error { _, err := (&Issued{Name: "x"}).SecretYAML("Not_A_Namespace"); return err }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
		})
	}
}

func TestReplaceRotatesAndRevokesTheCurrentCertificate(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, InitOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	first, err := Issue(dir, KindServer, IssueOptions{Name: "api", Hosts: []string{"api"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Issue(dir, KindServer, IssueOptions{Name: "api", Hosts: []string{"api"}, Replace: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if first.Serial.Cmp(second.Serial) == 0 || string(read(t, dir, "api", FileCert)) != string(second.CertPEM) {
		t.Fatal("the replacement did not take over the secret directory")
	}
	serial, err := Revoke(dir, "api", now)
	if err != nil {
		t.Fatal(err)
	}
	if serial.Cmp(second.Serial) != 0 {
		t.Errorf("revoked serial %v, want the current one %v", serial, second.Serial)
	}
	again, err := Revoke(dir, "api", now.Add(time.Hour))
	if err != nil || again.Cmp(serial) != 0 {
		t.Errorf("revoking twice: %v, %v", again, err)
	}
}

func TestSecretYAML(t *testing.T) {
	for name, crl := range map[string]bool{"without a CRL": false, "with CRLs": true} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Init(dir, InitOptions{Intermediate: true, CRL: crl, Now: now}); err != nil {
				t.Fatal(err)
			}
			is, err := Issue(dir, KindServer, IssueOptions{Name: "api-tls", Hosts: []string{"api.example.com"}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			out, err := is.SecretYAML("gateways")
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Type       string `json:"type"`
				Metadata   struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
				StringData map[string]string `json:"stringData"`
			}
			if err := yaml.UnmarshalStrict(out, &got); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			want := map[string]string{FileCert: string(is.CertPEM), FileKey: string(is.KeyPEM), FileCA: string(is.CAPEM)}
			if crl {
				want[FileCRL] = string(is.CRLPEM)
			}
			if diff := cmp.Diff(want, got.StringData); diff != "" {
				t.Errorf("stringData (-want +got):\n%s", diff)
			}
			head := []string{got.APIVersion, got.Kind, got.Type, got.Metadata.Name, got.Metadata.Namespace}
			if diff := cmp.Diff([]string{"v1", "Secret", "kubernetes.io/tls", "api-tls", "gateways"}, head); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
		})
	}
}
