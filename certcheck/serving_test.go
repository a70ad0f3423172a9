package certcheck

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCheckServing(t *testing.T) {
	p := testPKI(t)
	chain := cat(p.leaf.pem, p.inter.pem)
	caBundle := cat(p.inter.pem, p.root.pem)
	good := ServingInput{Cert: chain, Key: p.leaf.keyPEM, CA: caBundle, Now: now}
	with := func(f func(in *ServingInput)) ServingInput {
		in := good
		f(&in)
		return in
	}
	leafWith := func(s spec) *pair {
		if s.parent == nil {
			s.parent = p.inter
		}
		return mk(t, s)
	}
	serve := func(leaf *pair, hosts ...string) ServingInput {
		return with(func(in *ServingInput) {
			in.Cert, in.Key, in.Hosts = cat(leaf.pem, p.inter.pem), leaf.keyPEM, hosts
		})
	}
	rsaLeaf := leafWith(spec{cn: "rsa.example.com", dns: []string{"rsa.example.com"}, key: rsaKey(t, 2048)})

	tests := map[string]struct {
		in       ServingInput
		want     []string
		contains string // a phrase the first finding must hold
	}{
		"complete chain covering exact, wildcard and namespaced hosts": {
			in: with(func(in *ServingInput) {
				in.Hosts = []string{"api.example.com", "x.apps.example.com", "*.apps.example.com", "*", "ns1/API.example.com."}
			}),
			want: []string{},
		},
		"malformed PEM block": {
			in: with(func(in *ServingInput) {
				in.Cert = []byte("-----BEGIN CERTIFICATE-----\n!!!notbase64\n-----END CERTIFICATE-----\n")
			}),
			want:     []string{CodePEMInvalid},
			contains: "malformed",
		},
		"malformed block among good ones": {
			in: with(func(in *ServingInput) {
				in.Cert = cat(p.leaf.pem, []byte("-----BEGIN CERTIFICATE-----\nAAA\n"), p.inter.pem)
			}),
			want: []string{CodePEMInvalid},
		},
		"text that is not PEM": {
			in:       with(func(in *ServingInput) { in.Cert = []byte("hello, I am a certificate\n") }),
			want:     []string{CodePEMInvalid},
			contains: "NO_START_LINE",
		},
		"DER instead of PEM": {
			in:       with(func(in *ServingInput) { in.Cert = p.leaf.cert.Raw }),
			want:     []string{CodePEMDER},
			contains: "DER",
		},
		"base64 of PEM (a Secret's data value pasted into stringData)": {
			in:   with(func(in *ServingInput) { in.Cert = []byte(base64.StdEncoding.EncodeToString(chain)) }),
			want: []string{CodePEMBase64},
		},
		"certificate block that does not parse": {
			in: with(func(in *ServingInput) {
				in.Cert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})
			}),
			want: []string{CodeCertUnparseable},
		},
		"empty certificate": {
			in:       with(func(in *ServingInput) { in.Cert = nil }),
			want:     []string{CodeNoCertificate},
			contains: "tls.crt is empty",
		},
		"certificate request instead of certificate": {
			in: with(func(in *ServingInput) {
				in.Cert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1}})
			}),
			want:     []string{CodeNoCertificate},
			contains: "CERTIFICATE REQUEST",
		},
		"empty certificate and a broken key": {
			in:   with(func(in *ServingInput) { in.Cert, in.Key = nil, []byte("junk") }),
			want: []string{CodePEMInvalid, CodeNoCertificate},
		},
		"certificate and key swapped": {
			in:   with(func(in *ServingInput) { in.Cert, in.Key = p.leaf.keyPEM, chain }),
			want: []string{CodeFilesSwapped},
		},
		"key missing": {
			in:       with(func(in *ServingInput) { in.Key = nil }),
			want:     []string{CodeKeyMissing},
			contains: "tls.key is empty",
		},
		"public key instead of private key": {
			in:       with(func(in *ServingInput) { in.Key = publicKeyPEM(t, p.leaf) }),
			want:     []string{CodeKeyMissing},
			contains: "PUBLIC KEY",
		},
		"key that does not parse": {
			in: with(func(in *ServingInput) {
				in.Key = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})
			}),
			want: []string{CodeKeyUnparseable},
		},
		"PKCS#8 encrypted key": {
			in: with(func(in *ServingInput) {
				in.Key = pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})
			}),
			want: []string{CodeKeyEncrypted},
		},
		"legacy OpenSSL encrypted key": {
			in: with(func(in *ServingInput) {
				in.Key = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})
			}),
			want: []string{CodeKeyEncrypted},
		},
		"PKCS#1 RSA key": {
			in:   with(func(in *ServingInput) { in.Cert, in.Key = cat(rsaLeaf.pem, p.inter.pem), pkcs1(t, rsaLeaf) }),
			want: []string{},
		},
		"SEC1 EC key after EC PARAMETERS": {
			in:   with(func(in *ServingInput) { in.Key = sec1(t, p.leaf) }),
			want: []string{},
		},
		"key of another certificate": {
			in:       with(func(in *ServingInput) { in.Key = rsaLeaf.keyPEM }),
			want:     []string{CodeKeyMismatch},
			contains: "KEY_VALUES_MISMATCH",
		},
		"leaf not first": {
			in:       with(func(in *ServingInput) { in.Cert = cat(p.inter.pem, p.leaf.pem) }),
			want:     []string{CodeKeyMismatch, CodeChainOrder},
			contains: "which Envoy serves as the leaf",
		},
		"two keys": {
			in:   with(func(in *ServingInput) { in.Key = cat(p.leaf.keyPEM, rsaLeaf.keyPEM) }),
			want: []string{CodeKeyMultiple},
		},
		"key inside the certificate file": {
			in:   with(func(in *ServingInput) { in.Cert = cat(chain, p.leaf.keyPEM) }),
			want: []string{CodeKeyExposed},
		},
		"CA certificate served (openssl req -x509 used as server cert)": {
			in: with(func(in *ServingInput) {
				in.Cert, in.Key, in.Hosts = p.root.pem, p.root.keyPEM, []string{"api.example.com"}
			}),
			want:     []string{CodeCAAsLeaf, CodeNoSAN},
			contains: "CA:TRUE",
		},
		"CN-only certificate": {
			in:       serve(leafWith(spec{cn: "api.example.com"}), "api.example.com"),
			want:     []string{CodeNoSAN},
			contains: "certificate relies on legacy Common Name field, use SANs instead",
		},
		"certificate without any name": {
			in:       serve(leafWith(spec{}), "api.example.com"),
			want:     []string{CodeNoSAN},
			contains: "x509: certificate is not valid for any names",
		},
		"client certificate served": {
			in:       serve(leafWith(spec{cn: "c", dns: []string{"api.example.com"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}), "api.example.com"),
			want:     []string{CodeWrongUsage},
			contains: "incompatible key usage",
		},
		"host not covered": {
			in:       with(func(in *ServingInput) { in.Hosts = []string{"api.example.com", "web.example.com"} }),
			want:     []string{CodeSANMismatch},
			contains: "no alternative certificate subject name matches target host name 'web.example.com'",
		},
		"wildcard SAN does not cover the bare domain": {
			in:       with(func(in *ServingInput) { in.Hosts = []string{"apps.example.com"} }),
			want:     []string{CodeSANMismatch},
			contains: "does not cover the bare domain",
		},
		"wildcard SAN covers one label only": {
			in:       with(func(in *ServingInput) { in.Hosts = []string{"a.b.apps.example.com"} }),
			want:     []string{CodeSANMismatch},
			contains: "exactly one label",
		},
		"wildcard host needs a wildcard SAN": {
			in:       serve(leafWith(spec{cn: "x.apps.example.com", dns: []string{"x.apps.example.com"}}), "*.apps.example.com"),
			want:     []string{CodeSANMismatch},
			contains: "only the SAN *.apps.example.com covers them all",
		},
		"IP host with IP SAN": {
			in:   serve(leafWith(spec{cn: "10.0.0.1", ips: []net.IP{net.ParseIP("10.0.0.1")}}), "10.0.0.1"),
			want: []string{},
		},
		"IP host without IP SAN": {
			in:   serve(leafWith(spec{cn: "10.0.0.1", ips: []net.IP{net.ParseIP("10.0.0.1")}}), "10.0.0.2"),
			want: []string{CodeSANMismatch},
		},
		"expired leaf": {
			in:       serve(leafWith(spec{cn: "a", dns: []string{"a"}, notBefore: now.AddDate(-1, 0, 0), notAfter: now.AddDate(0, 0, -3)}), "a"),
			want:     []string{CodeExpired},
			contains: "3 days ago",
		},
		"leaf not yet valid": {
			in:   serve(leafWith(spec{cn: "a", dns: []string{"a"}, notBefore: now.Add(time.Hour)}), "a"),
			want: []string{CodeNotYetValid},
		},
		"leaf expiring within the warning window": {
			in: with(func(in *ServingInput) {
				l := leafWith(spec{cn: "a", dns: []string{"a"}, notAfter: now.AddDate(0, 0, 10)})
				in.Cert, in.Key, in.ExpiryWarning = cat(l.pem, p.inter.pem), l.keyPEM, 30*24*time.Hour
			}),
			want:     []string{CodeExpiringSoon},
			contains: "in 10 days",
		},
		"expired intermediate in the chain": {
			in: with(func(in *ServingInput) {
				old := mk(t, spec{cn: "Old Intermediate", ca: true, parent: p.root, notBefore: now.AddDate(-2, 0, 0), notAfter: now.AddDate(0, -1, 0)})
				l := mk(t, spec{cn: "a", dns: []string{"a"}, parent: old})
				in.Cert, in.Key = cat(l.pem, old.pem), l.keyPEM
			}),
			want:     []string{CodeExpired},
			contains: "tls.crt certificate 2 (CN=Old Intermediate)",
		},
		"missing intermediate found in ca.crt": {
			in:       with(func(in *ServingInput) { in.Cert = p.leaf.pem }),
			want:     []string{CodeChainMissing},
			contains: "found in ca.crt",
		},
		"missing intermediate, issuer unknown": {
			in:       with(func(in *ServingInput) { in.Cert, in.CA = p.leaf.pem, nil }),
			want:     []string{CodeChainMissing},
			contains: "unable to get local issuer certificate",
		},
		"leaf issued by the root in ca.crt": {
			in: with(func(in *ServingInput) {
				l := mk(t, spec{cn: "a", dns: []string{"a"}, parent: p.root})
				in.Cert, in.Key, in.CA = l.pem, l.keyPEM, p.root.pem
			}),
			want: []string{},
		},
		"chain with the root included": {
			in:   with(func(in *ServingInput) { in.Cert = cat(chain, p.root.pem) }),
			want: []string{},
		},
		"chain out of order": {
			in:       with(func(in *ServingInput) { in.Cert = cat(p.leaf.pem, p.root.pem, p.inter.pem) }),
			want:     []string{CodeChainOrder},
			contains: "out of order",
		},
		"certificate after the root": {
			in:   with(func(in *ServingInput) { in.Cert = cat(chain, p.root.pem, p.rsaRoot.pem) }),
			want: []string{CodeChainOrder},
		},
		"unrelated certificate instead of the intermediate": {
			in:       with(func(in *ServingInput) { in.Cert = cat(p.leaf.pem, p.rsaRoot.pem) }),
			want:     []string{CodeChainMissing},
			contains: "is incomplete",
		},
		"RSA-1024 leaf": {
			in:       serve(leafWith(spec{cn: "a", dns: []string{"a"}, key: rsaKey(t, 1024)}), "a"),
			want:     []string{CodeWeakKey},
			contains: "1024-bit",
		},
		"SHA-1 signed leaf": {
			in: with(func(in *ServingInput) {
				l := mk(t, spec{cn: "a", dns: []string{"a"}, parent: p.rsaRoot, sigAlg: x509.SHA1WithRSA})
				in.Cert, in.Key, in.CA = l.pem, l.keyPEM, p.rsaRoot.pem
			}),
			want:     []string{CodeWeakSignature},
			contains: "SHA1-RSA",
		},
		"MD5 signed leaf": {
			in: with(func(in *ServingInput) {
				l := md5Cert(t, spec{cn: "a", dns: []string{"a"}, parent: p.rsaRoot})
				in.Cert, in.Key, in.CA = l.pem, l.keyPEM, p.rsaRoot.pem
			}),
			want:     []string{CodeWeakSignature},
			contains: "MD5-RSA",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := CheckServing(tc.in)
			if diff := cmp.Diff(tc.want, codes(got)); diff != "" {
				t.Fatalf("codes (-want +got):\n%s\nfindings: %v", diff, got)
			}
			checkWellFormed(t, got)
			if tc.contains != "" && !strings.Contains(got[0].Message, tc.contains) {
				t.Errorf("message %q does not contain %q", got[0].Message, tc.contains)
			}
		})
	}
}
