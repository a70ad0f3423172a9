package certcheck

import (
	"crypto/x509/pkix"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarizeChain(t *testing.T) {
	p := testPKI(t)
	attr := func(oid []int, v string) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: oid, Value: v}
	}
	cn, o, ou := []int{2, 5, 4, 3}, []int{2, 5, 4, 10}, []int{2, 5, 4, 11}
	// CN first in the certificate, as openssl req -subj "/CN=app/O=..."
	// writes it; two OUs in two RDNs.
	ordered := mk(t, spec{parent: p.inter, names: []pkix.AttributeTypeAndValue{
		attr(cn, "app"), attr(o, "Example"), attr(ou, "a"), attr(ou, "b"),
	}})
	tests := map[string]struct {
		pem  []byte
		want string
	}{
		"leaf, intermediate and root": {
			pem:  cat(p.leaf.pem, p.inter.pem, p.root.pem),
			want: "CN=api.example.com (expires 2027-01-15) <- CN=Test Intermediate CA (expires 2027-01-15) [CA] <- CN=Test Root CA (expires 2027-01-15) [root]",
		},
		"subject in certificate order, as Envoy prints it": {
			pem:  ordered.pem,
			want: "OU=b,OU=a,O=Example,CN=app (expires 2027-01-15)",
		},
		"nothing":  {pem: nil, want: "no certificate"},
		"not PEM":  {pem: []byte("junk"), want: "no certificate"},
		"key only": {pem: p.leaf.keyPEM, want: "no certificate"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, SummarizeChain(tc.pem)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	p := testPKI(t)
	short := mk(t, spec{cn: "short", parent: p.inter, notAfter: now.AddDate(0, 0, 7)})
	tests := map[string]struct {
		pem     []byte
		want    time.Time
		wantErr bool
	}{
		"earliest of the chain is the leaf": {pem: cat(short.pem, p.inter.pem), want: now.AddDate(0, 0, 7)},
		"single certificate":                {pem: p.root.pem, want: p.root.cert.NotAfter},
		"empty":                             {pem: nil, wantErr: true},
		"DER":                               {pem: p.root.cert.Raw, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Expiry(tc.pem)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Expiry = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFindingString(t *testing.T) {
	f := Finding{Severity: Warning, Code: CodeWeakKey, Message: "m.", Fix: "f."}
	if diff := cmp.Diff("warning [weak-key] m. Fix: f.", f.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if HasErrors([]Finding{f}) || !HasErrors([]Finding{f, {Severity: Error}}) {
		t.Error("HasErrors disagrees with the severities")
	}
}
