package envoymodel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// twinCA is a CA whose subject another CA shares, with its own key.
type twinCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTwinCA(t *testing.T, now time.Time) twinCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Same Name CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return twinCA{cert: c, key: key}
}

// leaf issues a client certificate.
func (ca twinCA) leaf(t *testing.T, now time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// crl publishes an empty CRL.
func (ca twinCA) crl(t *testing.T, now time.Time) *x509.RevocationList {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSignatureMemo: the memo of signature checks never lets one
// certificate's verdict stand for another's. Two CAs share a subject; each
// order of asking gives the verdicts that verifying without a memo gives.
func TestSignatureMemo(t *testing.T) {
	now := time.Now()
	trusted, impostor := newTwinCA(t, now), newTwinCA(t, now)
	good, forged := trusted.leaf(t, now), impostor.leaf(t, now)
	goodCRL, forgedCRL := trusted.crl(t, now), impostor.crl(t, now)
	type ask struct {
		name   string
		anchor twinCA
		chain  []*x509.Certificate
		crls   []*x509.RevocationList
	}
	asks := []ask{
		{"trusted client", trusted, []*x509.Certificate{good}, nil},
		{"impostor's client", trusted, []*x509.Certificate{forged}, nil},
		{"impostor's client where the impostor is trusted", impostor, []*x509.Certificate{forged}, nil},
		{"trusted client, trusted CRL", trusted, []*x509.Certificate{good}, []*x509.RevocationList{goodCRL}},
		{"trusted client, impostor's CRL", trusted, []*x509.Certificate{good}, []*x509.RevocationList{forgedCRL}},
		{"impostor's client and CRL where the impostor is trusted", impostor, []*x509.Certificate{forged}, []*x509.RevocationList{forgedCRL}},
	}
	verdict := func(a ask, sigs *sigMemo) string {
		p := verifyParams{anchors: []*x509.Certificate{a.anchor.cert}, crls: a.crls, crlCheck: len(a.crls) > 0, crlAll: true, depth: 100, now: now, purpose: x509.ExtKeyUsageClientAuth, sigs: sigs}
		if _, err := verifyChain(a.chain, p); err != nil {
			return err.msg
		}
		return "ok"
	}
	want := map[string]string{}
	for _, a := range asks {
		want[a.name] = verdict(a, nil)
	}
	if want["trusted client"] != "ok" || want["impostor's client"] == "ok" || want["impostor's client where the impostor is trusted"] != "ok" || want["trusted client, impostor's CRL"] != errCRLSignature {
		t.Fatalf("the unmemoized verdicts are not the premise of this test: %v", want)
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {2, 1, 5, 4, 0, 3}} {
		sigs := &sigMemo{}
		for round := 0; round < 2; round++ {
			for _, i := range order {
				if got := verdict(asks[i], sigs); got != want[asks[i].name] {
					t.Errorf("order %v round %d: %s: got %q, want %q", order, round, asks[i].name, got, want[asks[i].name])
				}
			}
		}
	}
}
