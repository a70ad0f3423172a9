package certcheck

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCheckClientCA(t *testing.T) {
	p := testPKI(t)
	bundle := cat(p.inter.pem, p.root.pem)
	bothCRLs := cat(goodCRL(t, p.inter), goodCRL(t, p.root))
	good := ClientCAInput{CA: bundle, CRL: bothCRLs, Now: now}
	with := func(f func(in *ClientCAInput)) ClientCAInput {
		in := good
		f(&in)
		return in
	}
	// A CA that signs certificates but not CRLs (keyUsage keyCertSign only),
	// and a CRL made under its name with its key: Go refuses to sign a CRL
	// for it, so the CRL is signed through a copy that claims cRLSign.
	noCRLSign := mk(t, spec{cn: "No CRLSign CA", ca: true, keyUsage: x509.KeyUsageCertSign})
	claims := *noCRLSign.cert
	claims.KeyUsage |= x509.KeyUsageCRLSign
	noCRLSignCRL := mkCRLAs(t, &claims, noCRLSign.key, now.Add(-time.Hour), now.AddDate(0, 1, 0))
	// Another CA under the intermediate's name: its CRL names the right
	// issuer but does not verify with the intermediate's key.
	impostor := mk(t, spec{cn: "Test Intermediate CA", ca: true, parent: p.root})
	other := mk(t, spec{cn: "Other Root CA", ca: true})

	tests := map[string]struct {
		in       ClientCAInput
		want     []string
		contains string // a phrase the last finding must hold
	}{
		"root and intermediate, each with its CRL": {in: good, want: []string{}},
		"root and intermediate without any CRL": {
			in:   with(func(in *ClientCAInput) { in.CRL = nil }),
			want: []string{},
		},
		"CRLs inside ca.crt count": {
			in:   with(func(in *ClientCAInput) { in.CA, in.CRL = cat(bundle, bothCRLs), nil }),
			want: []string{},
		},
		"empty bundle": {
			in:       with(func(in *ClientCAInput) { in.CA, in.CRL = nil, nil }),
			want:     []string{CodeCAEmpty},
			contains: "Failed to load trusted CA certificates",
		},
		"bundle that is not PEM": {
			in:   with(func(in *ClientCAInput) { in.CA, in.CRL = []byte("not a certificate"), nil }),
			want: []string{CodePEMInvalid},
		},
		"client certificate in the bundle": {
			in:       with(func(in *ClientCAInput) { in.CA, in.CRL = cat(bundle, p.leaf.pem), nil }),
			want:     []string{CodeNotCA},
			contains: "CN=api.example.com",
		},
		"CA key inside the bundle": {
			in:   with(func(in *ClientCAInput) { in.CA = cat(bundle, p.root.keyPEM) }),
			want: []string{CodeKeyExposed},
		},
		"expired CA": {
			in: with(func(in *ClientCAInput) {
				old := mk(t, spec{cn: "Old CA", ca: true, notBefore: now.AddDate(-5, 0, 0), notAfter: now.AddDate(0, 0, -1)})
				in.CA, in.CRL = old.pem, nil
			}),
			want: []string{CodeExpired},
		},
		"CA expiring within the warning window": {
			in: with(func(in *ClientCAInput) {
				soon := mk(t, spec{cn: "Soon CA", ca: true, notAfter: now.AddDate(0, 0, 5)})
				in.CA, in.CRL, in.ExpiryWarning = soon.pem, nil, 14*24*time.Hour
			}),
			want: []string{CodeExpiringSoon},
		},
		"RSA-1024 CA": {
			in: with(func(in *ClientCAInput) {
				in.CA, in.CRL = mk(t, spec{cn: "Weak CA", ca: true, key: rsaKey(t, 1024)}).pem, nil
			}),
			want: []string{CodeWeakKey},
		},
		"SHA-1 signed intermediate": {
			in: with(func(in *ClientCAInput) {
				sha1 := mk(t, spec{cn: "SHA1 Intermediate", ca: true, parent: p.rsaRoot, sigAlg: x509.SHA1WithRSA})
				in.CA, in.CRL = cat(sha1.pem, p.rsaRoot.pem), nil
			}),
			want: []string{CodeWeakSignature},
		},
		"CRL that does not parse": {
			in: with(func(in *ClientCAInput) {
				in.CRL = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte("junk")})
			}),
			want:     []string{CodeCRLUnparseable},
			contains: "Failed to load CRL",
		},
		"ca.crl holding a certificate instead of a CRL": {
			in:       with(func(in *ClientCAInput) { in.CRL = p.root.pem }),
			want:     []string{CodeCRLUnparseable},
			contains: "unable to get certificate CRL",
		},
		"CRL by another CA": {
			in:       with(func(in *ClientCAInput) { in.CRL = goodCRL(t, other) }),
			want:     []string{CodeCRLUnknownIssuer, CodeCRLMissing},
			contains: "no CRL for CN=Test Intermediate CA; CN=Test Root CA",
		},
		"CRL with a bad signature (CA re-created under the same name)": {
			in:       with(func(in *ClientCAInput) { in.CRL = cat(goodCRL(t, impostor), goodCRL(t, p.root)) }),
			want:     []string{CodeCRLBadSignature},
			contains: "CRL signature failure",
		},
		"CRL by a CA without cRLSign": {
			in:       with(func(in *ClientCAInput) { in.CA, in.CRL = noCRLSign.pem, noCRLSignCRL }),
			want:     []string{CodeCRLIssuerUsage},
			contains: "key usage does not include CRL signing",
		},
		"expired CRL": {
			in: with(func(in *ClientCAInput) {
				in.CRL = cat(mkCRL(t, p.inter, now.AddDate(0, -2, 0), now.AddDate(0, 0, -2)), goodCRL(t, p.root))
			}),
			want:     []string{CodeCRLExpired},
			contains: "CRL has expired",
		},
		"CRL not yet valid": {
			in: with(func(in *ClientCAInput) {
				in.CRL = cat(mkCRL(t, p.inter, now.Add(time.Hour), now.AddDate(0, 1, 0)), goodCRL(t, p.root))
			}),
			want: []string{CodeCRLNotYetValid},
		},
		"CRL reaching nextUpdate within the warning window": {
			in: with(func(in *ClientCAInput) {
				in.CRL = cat(mkCRL(t, p.inter, now.AddDate(0, 0, -20), now.AddDate(0, 0, 2)), goodCRL(t, p.root))
				in.ExpiryWarning = 7 * 24 * time.Hour
			}),
			want:     []string{CodeCRLExpiringSoon},
			contains: "in 2 days",
		},
		"fresh 30-day CRL inside a 30-day window: no warning (warns in its last third)": {
			in: with(func(in *ClientCAInput) {
				in.CRL = cat(mkCRL(t, p.inter, now.Add(-time.Hour), now.AddDate(0, 0, 30)), goodCRL(t, p.root))
				in.ExpiryWarning = 30 * 24 * time.Hour
			}),
			want: []string{},
		},
		"intermediate CRL only: the root has none": {
			in:       with(func(in *ClientCAInput) { in.CRL = goodCRL(t, p.inter) }),
			want:     []string{CodeCRLMissing},
			contains: "no CRL for CN=Test Root CA:",
		},
		"intermediate CRL only, leaf-only CRL checking": {
			in:   with(func(in *ClientCAInput) { in.CRL, in.OnlyLeafCRL = goodCRL(t, p.inter), true }),
			want: []string{},
		},
		"root CRL only, leaf-only CRL checking": {
			in:       with(func(in *ClientCAInput) { in.CRL, in.OnlyLeafCRL = goodCRL(t, p.root), true }),
			want:     []string{CodeCRLMissing},
			contains: "with crl.onlyVerifyLeaf (Envoy's only_verify_leaf_cert_crl)",
		},
		"intermediate alone as trust anchor, with its CRL": {
			in:       with(func(in *ClientCAInput) { in.CA, in.CRL = p.inter.pem, goodCRL(t, p.inter) }),
			want:     []string{CodeCRLMissing},
			contains: "the issuer of CN=Test Intermediate CA, not in ca.crt",
		},
		"intermediate alone as trust anchor, leaf-only CRL checking": {
			in:   with(func(in *ClientCAInput) { in.CA, in.CRL, in.OnlyLeafCRL = p.inter.pem, goodCRL(t, p.inter), true }),
			want: []string{},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := CheckClientCA(tc.in)
			if diff := cmp.Diff(tc.want, codes(got)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\nfindings: %v", diff, got)
			}
			checkWellFormed(t, got)
			if tc.contains != "" && !strings.Contains(got[len(got)-1].Message, tc.contains) {
				t.Errorf("message %q does not contain %q", got[len(got)-1].Message, tc.contains)
			}
		})
	}
}

func TestCheckUpstreamCA(t *testing.T) {
	p := testPKI(t)
	selfSignedServer := mk(t, spec{cn: "backend.internal", dns: []string{"backend.internal"}})
	sha1Root := mk(t, spec{cn: "SHA1 Root", ca: true, key: p.rsaRoot.key, sigAlg: x509.SHA1WithRSA})
	tests := map[string]struct {
		ca   []byte
		warn time.Duration
		want []string
	}{
		"root CA":               {ca: p.root.pem, want: []string{}},
		"root and intermediate": {ca: cat(p.inter.pem, p.root.pem), want: []string{}},
		"SHA-1 self-signature of a root is not checked, so not flagged": {ca: sha1Root.pem, want: []string{}},
		"empty":                                 {ca: []byte("\n"), want: []string{CodeCAEmpty}},
		"the backend's self-signed certificate": {ca: selfSignedServer.pem, want: []string{CodeNotCA}},
		"expired CA": {
			ca:   mk(t, spec{cn: "Old", ca: true, notBefore: now.AddDate(-3, 0, 0), notAfter: now.AddDate(-1, 0, 0)}).pem,
			want: []string{CodeExpired},
		},
		"CA expiring soon": {
			ca:   mk(t, spec{cn: "Soon", ca: true, notAfter: now.AddDate(0, 0, 3)}).pem,
			warn: 30 * 24 * time.Hour,
			want: []string{CodeExpiringSoon},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := CheckUpstreamCA(tc.ca, now, tc.warn)
			if diff := cmp.Diff(tc.want, codes(got)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\nfindings: %v", diff, got)
			}
			checkWellFormed(t, got)
		})
	}
	if got := CheckUpstreamCA(selfSignedServer.pem, now, 0); got[0].Severity != Warning {
		t.Errorf("a non-CA upstream anchor is %v, want a warning", got[0].Severity)
	}
}
