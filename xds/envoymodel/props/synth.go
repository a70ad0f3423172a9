package props

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/trustgate/trustgate/xds/envoymodel"
)

// maxWanted bounds the certificates made for one server's rules.
const maxWanted = 8

// Synthesize makes the client chains for a configuration whose CA keys are
// not at hand: it twins the resources' client CAs and CRLs (see twins),
// gives the twins to the judge (in) and returns the twinned resources with
// the clients. Per client CA bundle: a plain certificate (a CN, no SAN)
// from each of its first three CAs, a revoked one (when it has CRLs), an
// expired one, and one through an intermediate CA the bundle does not
// hold; per server, one certificate for each rule that reads the
// certificate (SAN matchers of its validation, ClientCertificatePolicy
// rules, AuthorizationPolicy principals and conditions on
// certificate-derived headers). Besides, one client of an unrelated CA for
// every server.
func Synthesize(in *Intent, res *envoymodel.Resources, now time.Time) ([]Client, *envoymodel.Resources, error) {
	tw, err := newTwins(res)
	if err != nil {
		return nil, nil, fmt.Errorf("twinning the client CAs: %w", err)
	}
	twinned := tw.resources(res)
	tw.intent(in)
	mk := &maker{tw: tw, now: now}
	stranger, err := mk.stranger()
	if err != nil {
		return nil, nil, err
	}
	out := []Client{stranger}
	done := map[string]bool{}
	for _, s := range in.Servers {
		if s.Validation == nil {
			continue
		}
		anchors := tw.anchors(s.Validation.Roots)
		if len(anchors) == 0 {
			continue
		}
		scope := ScopeOf(s.Validation.Roots)
		if !done[scope] {
			done[scope] = true
			base, err := mk.base(scope, anchors)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, base...)
		}
		for i, spec := range in.wanted(s) {
			key := scope + "|" + spec.key()
			if i >= maxWanted || done[key] {
				continue
			}
			done[key] = true
			cl, err := mk.leaf(anchors[0], spec, scope)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, cl)
		}
	}
	return out, twinned, nil
}

// anchors are the twins among a bundle's (twinned) roots.
func (tw *twins) anchors(roots []*x509.Certificate) []*twin {
	var out []*twin
	for _, r := range roots {
		for _, t := range tw.certs {
			if bytes.Equal(t.cert.Raw, r.Raw) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// maker issues client certificates.
type maker struct {
	tw  *twins
	now time.Time
}

// leafSpec is what a client certificate says.
type leafSpec struct {
	why     string // the rule it is made for
	subject []pkix.AttributeTypeAndValue
	dns     []string
	uris    []string
	emails  []string
	ips     []string
	serial  *big.Int
	expired bool
}

// key identifies what a spec makes.
func (s leafSpec) key() string {
	return fmt.Sprint(pkix.Name{ExtraNames: s.subject}.String(), s.dns, s.uris, s.emails, s.ips)
}

// describe is the spec's subject and SANs, for the client's name.
func (s leafSpec) describe() string {
	parts := []string{rdnString(s.subject)}
	for _, l := range []struct {
		typ  string
		vals []string
	}{{"DNS", s.dns}, {"URI", s.uris}, {"email", s.emails}, {"IP", s.ips}} {
		for _, v := range l.vals {
			parts = append(parts, l.typ+":"+v)
		}
	}
	return strings.Join(parts, " ")
}

// rdnString prints attributes as RFC 2253 (last first), as Envoy does.
func rdnString(attrs []pkix.AttributeTypeAndValue) string {
	var seq pkix.RDNSequence
	for _, a := range attrs {
		seq = append(seq, pkix.RelativeDistinguishedNameSET{a})
	}
	return seq.String()
}

// commonName is a subject of one CN.
func commonName(cn string) []pkix.AttributeTypeAndValue {
	return []pkix.AttributeTypeAndValue{{Type: oidCN, Value: cn}}
}

var oidCN = []int{2, 5, 4, 3}

// base are a bundle's plain clients: valid from each of its first three
// CAs, revoked, expired, and through a foreign intermediate.
func (mk *maker) base(scope string, anchors []*twin) ([]Client, error) {
	var out []Client
	add := func(a *twin, spec leafSpec) error {
		cl, err := mk.leaf(a, spec, scope)
		out = append(out, cl)
		return err
	}
	for i, a := range anchors {
		if i == 3 {
			break
		}
		if err := add(a, leafSpec{why: "plain", subject: commonName("trustgate-check")}); err != nil {
			return nil, err
		}
	}
	for _, a := range anchors {
		if a.revoked != nil {
			if err := add(a, leafSpec{why: "revoked", subject: commonName("trustgate-check-revoked"), serial: a.revoked}); err != nil {
				return nil, err
			}
			break
		}
	}
	if err := add(anchors[0], leafSpec{why: "expired", subject: commonName("trustgate-check-expired"), expired: true}); err != nil {
		return nil, err
	}
	deep, err := mk.intermediate(anchors[0])
	if err != nil {
		return nil, err
	}
	cl, err := mk.leaf(deep, leafSpec{why: "through an intermediate CA the bundle does not hold", subject: commonName("trustgate-check-deep")}, scope)
	if err != nil {
		return nil, err
	}
	return append(out, cl), nil
}

// leaf issues a client certificate under a CA and returns it with the
// chain a client sends: the leaf, then the CAs above it that are not
// self-signed.
func (mk *maker) leaf(ca *twin, spec leafSpec, scope string) (Client, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Client{}, err
	}
	serial := spec.serial
	if serial == nil {
		if serial, err = randomSerial(); err != nil {
			return Client{}, err
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{ExtraNames: spec.subject},
		NotBefore: mk.now.Add(-time.Hour), NotAfter: mk.now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames: spec.dns, EmailAddresses: spec.emails,
	}
	if spec.expired {
		tmpl.NotBefore, tmpl.NotAfter = mk.now.Add(-48*time.Hour), mk.now.Add(-24*time.Hour)
	}
	if err := setSANs(tmpl, spec); err != nil {
		return Client{}, fmt.Errorf("client for %s: %w", spec.why, err)
	}
	c, err := create(tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return Client{}, fmt.Errorf("client for %s: %w", spec.why, err)
	}
	chain := []*x509.Certificate{c}
	for p := ca; p != nil && !p.phantom && !bytes.Equal(p.cert.RawSubject, p.cert.RawIssuer); p = p.parent {
		chain = append(chain, p.cert)
	}
	name := fmt.Sprintf("%s (%s, issued by %s)", spec.why, spec.describe(), ca.cert.Subject)
	return Client{Name: name, Chain: chain, Scope: scope}, nil
}

// intermediate makes a CA under a twin that no bundle holds.
func (mk *maker) intermediate(parent *twin) (*twin, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "trustgate check intermediate CA"},
		NotBefore: mk.now.Add(-time.Hour), NotAfter: mk.now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	c, err := create(tmpl, parent.cert, &key.PublicKey, parent.key)
	if err != nil {
		return nil, err
	}
	return &twin{cert: c, key: key, parent: parent}, nil
}

// stranger is a client of a CA no configuration trusts.
func (mk *maker) stranger() (Client, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Client{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trustgate check: another CA"},
		NotBefore: mk.now.Add(-time.Hour), NotAfter: mk.now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ca, err := create(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Client{}, err
	}
	cl, err := mk.leaf(&twin{cert: ca, key: key}, leafSpec{why: "another CA", subject: commonName("trustgate-check-stranger")}, "")
	cl.Scope = ""
	return cl, err
}
