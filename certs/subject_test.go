package certs

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubjects(t *testing.T) {
	tests := map[string]struct {
		init   InitOptions
		kind   Kind
		issue  IssueOptions
		wantCA string // the issuing CA's subject as Envoy prints it
		want   string // the leaf's
	}{
		"defaults": {
			kind:   KindServer,
			issue:  IssueOptions{Hosts: []string{"api.example.com"}},
			wantCA: "CN=trustgate dev CA,O=trustgate development PKI",
			want:   "CN=api.example.com",
		},
		"every attribute as a flag, in Go's and openssl's usual order": {
			init: InitOptions{CommonName: "Example CA", Subject: Subject{Organization: []string{"Example SE"}, Country: "de"}},
			kind: KindClient,
			issue: IssueOptions{CommonName: "app", Organization: "Example SE", Subject: Subject{
				Organization: []string{"Example Labs"}, OrganizationalUnit: []string{"Clients", "Team 7"},
				Locality: "Walldorf", Province: "Baden-Wuerttemberg", Country: "DE",
			}},
			wantCA: "CN=Example CA,O=Example SE,C=DE",
			want:   "CN=app,OU=Team 7,OU=Clients,O=Example Labs,O=Example SE,L=Walldorf,ST=Baden-Wuerttemberg,C=DE",
		},
		"SAP-style subject as Envoy prints it (RFC 4514)": {
			init: InitOptions{Subject: Subject{DN: "CN=SAP Cloud Platform Client CA,OU=SAP Cloud Platform Clients,O=SAP SE,L=Walldorf,C=DE"}, Intermediate: true},
			kind: KindClient,
			issue: IssueOptions{Subject: Subject{
				DN: "CN=my-app, L=aws, OU=SAP Cloud Platform Clients, OU=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0, O=SAP SE, C=DE",
			}},
			wantCA: "CN=SAP Cloud Platform Client CA intermediate,OU=SAP Cloud Platform Clients,O=SAP SE,L=Walldorf,C=DE",
			want:   "CN=my-app,L=aws,OU=SAP Cloud Platform Clients,OU=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0,O=SAP SE,C=DE",
		},
		"the same subject written as openssl -subj": {
			kind:   KindClient,
			issue:  IssueOptions{Subject: Subject{DN: "/C=DE/O=SAP SE/OU=0f1e2d3c/OU=SAP Cloud Platform Clients/L=aws/CN=my-app"}},
			wantCA: "CN=trustgate dev CA,O=trustgate development PKI",
			want:   "CN=my-app,L=aws,OU=SAP Cloud Platform Clients,OU=0f1e2d3c,O=SAP SE,C=DE",
		},
		"escapes": {
			kind:   KindClient,
			issue:  IssueOptions{Subject: Subject{DN: `CN=Doe\, John,OU=R\2BD,O=A\/B \+ C`}},
			wantCA: "CN=trustgate dev CA,O=trustgate development PKI",
			want:   `CN=Doe\, John,OU=R\+D,O=A/B \+ C`,
		},
		"a server certificate with a subject DN and no CN": {
			kind:   KindServer,
			issue:  IssueOptions{Hosts: []string{"api.example.com"}, Subject: Subject{DN: "O=Example,C=US"}},
			wantCA: "CN=trustgate dev CA,O=trustgate development PKI",
			want:   "O=Example,C=US",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tc.init.Now = now
			if err := Init(dir, tc.init); err != nil {
				t.Fatal(err)
			}
			tc.issue.Name, tc.issue.Now = "leaf", now
			is, err := Issue(dir, tc.kind, tc.issue)
			if err != nil {
				t.Fatal(err)
			}
			ca, err := parseCertPEM(is.CAPEM)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ what, want, got string }{
				{"CA", tc.wantCA, printed(t, ca.RawSubject)},
				{"leaf issuer", tc.wantCA, printed(t, is.Cert.RawIssuer)},
				{"leaf", tc.want, printed(t, is.Cert.RawSubject)},
			} {
				if c.got != c.want {
					t.Errorf("%s subject:\n got %s\nwant %s", c.what, c.got, c.want)
				}
			}
			if got, err := PrintedSubject(is.Cert); err != nil || got != tc.want {
				t.Errorf("PrintedSubject = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// printed renders a raw DER name the way PrintedSubject does.
func printed(t *testing.T, raw []byte) string {
	t.Helper()
	s, err := PrintedSubject(&x509.Certificate{RawSubject: raw})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubjectErrors(t *testing.T) {
	tests := map[string]struct {
		init  InitOptions
		kind  Kind
		issue IssueOptions
		want  string
	}{
		"three-letter country":        {kind: KindClient, issue: IssueOptions{CommonName: "a", Subject: Subject{Country: "DEU"}}, want: "two-letter"},
		"country in a DN":             {kind: KindClient, issue: IssueOptions{Subject: Subject{DN: "CN=a,C=Germany"}}, want: "two-letter"},
		"unknown attribute":           {kind: KindClient, issue: IssueOptions{Subject: Subject{DN: "CN=a,STREET=Main"}}, want: `attribute type "STREET"`},
		"multi-valued RDN":            {kind: KindClient, issue: IssueOptions{Subject: Subject{DN: "CN=a+UID=b"}}, want: "multi-valued"},
		"empty value":                 {kind: KindClient, issue: IssueOptions{Subject: Subject{DN: "CN=a,O="}}, want: "empty value"},
		"empty OU flag":               {kind: KindClient, issue: IssueOptions{CommonName: "a", Subject: Subject{OrganizationalUnit: []string{" "}}}, want: "empty value"},
		"no equals sign":              {kind: KindClient, issue: IssueOptions{Subject: Subject{DN: "CN=a,Example"}}, want: "TYPE=value"},
		"lone backslash":              {kind: KindClient, issue: IssueOptions{Subject: Subject{DN: `CN=a\`}}, want: "backslash"},
		"CN besides a DN":             {kind: KindClient, issue: IssueOptions{CommonName: "a", Subject: Subject{DN: "CN=b"}}, want: "whole subject"},
		"O besides a DN":              {kind: KindClient, issue: IssueOptions{Organization: "x", Subject: Subject{DN: "CN=b"}}, want: "whole subject"},
		"client DN without CN":        {kind: KindClient, issue: IssueOptions{Subject: Subject{DN: "O=Example"}}, want: "needs a common name"},
		"CA DN without CN":            {init: InitOptions{Subject: Subject{DN: "O=Example"}}, want: "needs a CN"},
		"CA with a CN besides its DN": {init: InitOptions{CommonName: "x", Subject: Subject{DN: "CN=y"}}, want: "whole subject"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			err := Init(dir, tc.init)
			if err == nil && tc.kind != "" {
				tc.issue.Name = "leaf"
				_, err = Issue(dir, tc.kind, tc.issue)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestSerialsAreRandom128Bit(t *testing.T) {
	seen := map[string]string{}
	for _, run := range []string{"first init", "second init"} {
		dir := t.TempDir()
		// The same CA name twice: issuer and serial must still differ.
		if err := Init(dir, InitOptions{Intermediate: true, Now: now}); err != nil {
			t.Fatal(err)
		}
		is, err := Issue(dir, KindClient, IssueOptions{Name: "c", CommonName: "c", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		root, err := parseCertPEM(read(t, dir, StateDir, CARoot+".crt"))
		if err != nil {
			t.Fatal(err)
		}
		inter, err := parseCertPEM(read(t, dir, StateDir, CAIntermediate+".crt"))
		if err != nil {
			t.Fatal(err)
		}
		for what, c := range map[string]*x509.Certificate{"root": root, "intermediate": inter, "leaf": is.Cert} {
			// 128 random bits: fewer than 65 significant ones has a
			// probability of 2^-64.
			if n := c.SerialNumber.BitLen(); n > 128 || n <= 64 || c.SerialNumber.Sign() <= 0 {
				t.Errorf("%s %s: serial %v has %d bits, want a positive 128-bit number", run, what, c.SerialNumber, n)
			}
			key := string(c.RawIssuer) + "/" + c.SerialNumber.String()
			if prev, dup := seen[key]; dup {
				t.Errorf("%s %s has the same issuer and serial as %s", run, what, prev)
			}
			seen[key] = run + " " + what
		}
	}
}

func TestVersion1StateKeepsPublishingCRLs(t *testing.T) {
	// A PKI made by an older trustgate: a serial counter, and a CRL from
	// init. It loads, issues random serials and keeps its CRLs.
	dir := t.TempDir()
	if err := Init(dir, InitOptions{CRL: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(read(t, dir, StateDir, stateFile), &st); err != nil {
		t.Fatal(err)
	}
	st["version"], st["nextSerial"] = 1, 2
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, StateDir, stateFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	is, err := Issue(dir, KindServer, IssueOptions{Name: "web", Hosts: []string{"web"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(is.CRLPEM) == 0 || is.Serial.BitLen() <= 64 {
		t.Errorf("CRL %d bytes, serial %v: want the PKI's CRL and a random serial", len(is.CRLPEM), is.Serial)
	}
	if _, err := os.Stat(filepath.Join(dir, "web", FileCRL)); err != nil {
		t.Error(err)
	}
}

// TestPrintedSubjectIsEnvoys: what `certs issue` prints as the subject is
// the string Envoy prints for %DOWNSTREAM_PEER_SUBJECT% (rfc2253.Print),
// which a cert.subject rule must match; Go's pkix printer kept "ü" and
// named emailAddress by its OID.
func TestPrintedSubjectIsEnvoys(t *testing.T) {
	raw, err := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}, Value: "ops@example.com"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Müller GmbH"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "app"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const want = `CN=app,O=M\C3\BCller GmbH,emailAddress=ops@example.com`
	if got, err := PrintedSubject(&x509.Certificate{RawSubject: raw}); err != nil || got != want {
		t.Errorf("PrintedSubject = %q, %v; want %q", got, err, want)
	}
}
