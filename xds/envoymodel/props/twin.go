package props

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/envoymodel"
)

// A user's configuration names client CAs whose keys `check` does not have,
// so it cannot issue a client certificate they accept. It makes twins
// instead: for every CA certificate and CRL of the resources' validation
// contexts, one with the same subject (the same bytes), validity, serial,
// extensions and revoked serials, signed with a key of its own by the twin
// of its issuer. Both the resources the model reads and the validation the
// judge reads are given the twins, so every client issued under a twin
// meets exactly the validation the original would have applied to a client
// of the original CA. Each twin CRL also lists one serial of the twin's own,
// so that a revoked client can be issued.

// twin is one twin CA certificate and its key.
type twin struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// revoked is the serial the twin's CRLs list besides the original's
	// (nil: no CRL of this CA).
	revoked *big.Int
	// parent is the twin that signed it (nil: self-signed or a phantom).
	parent *twin
	// phantom marks an issuer that no bundle holds.
	phantom bool
}

// twins are the twins of a set of resources.
type twins struct {
	certs map[string]*twin                // original DER -> twin
	crls  map[string]*x509.RevocationList // original DER -> twin
	pool  []*x509.Certificate             // every CA certificate of the resources
	phant map[string]*twin                // issuer name (DER) -> a phantom issuer
	orig  map[string]*x509.Certificate    // original DER -> original
	order []string                        // original DERs in the order found
}

// newTwins twins every CA certificate and CRL of the validation contexts in
// the resources' secrets.
func newTwins(res *envoymodel.Resources) (*twins, error) {
	tw := &twins{certs: map[string]*twin{}, crls: map[string]*x509.RevocationList{}, phant: map[string]*twin{},
		orig: map[string]*x509.Certificate{}}
	var crls []*x509.RevocationList
	for _, s := range res.Secrets {
		vc := s.GetValidationContext()
		if vc == nil {
			continue
		}
		for _, blk := range pemBlocks(inline(vc.GetTrustedCa())) {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil && tw.orig[string(c.Raw)] == nil {
				tw.orig[string(c.Raw)] = c
				tw.order = append(tw.order, string(c.Raw))
				tw.pool = append(tw.pool, c)
			}
		}
		for _, blk := range pemBlocks(inline(vc.GetCrl())) {
			if l, err := x509.ParseRevocationList(blk.Bytes); err == nil {
				crls = append(crls, l)
			}
		}
	}
	for _, der := range tw.order {
		if _, err := tw.twinOf(tw.orig[der], 0); err != nil {
			return nil, err
		}
	}
	for _, l := range crls {
		if _, done := tw.crls[string(l.Raw)]; done {
			continue
		}
		t, err := tw.crlTwin(l)
		if err != nil {
			return nil, err
		}
		tw.crls[string(l.Raw)] = t
	}
	return tw, nil
}

// inline is an inline data source's bytes.
func inline(d *corev3.DataSource) []byte {
	if b := d.GetInlineBytes(); b != nil {
		return b
	}
	return []byte(d.GetInlineString())
}

// pemBlocks are the PEM blocks of b.
func pemBlocks(b []byte) []*pem.Block {
	var out []*pem.Block
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		out = append(out, blk)
	}
	return out
}

// issuerOf is the CA of the pool that signed c (nil: none does).
func (tw *twins) issuerOf(c *x509.Certificate) *x509.Certificate {
	for _, cand := range tw.pool {
		if !bytes.Equal(cand.Raw, c.Raw) && bytes.Equal(cand.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(cand) == nil {
			return cand
		}
	}
	return nil
}

// twinOf makes (once) the twin of a CA certificate: self-signed when the
// original is, signed by its issuer's twin when the issuer is in the pool,
// else by a phantom that bears the issuer's name.
func (tw *twins) twinOf(c *x509.Certificate, depth int) (*twin, error) {
	if t, ok := tw.certs[string(c.Raw)]; ok {
		return t, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := twinTemplate(c)
	var parent *twin
	switch iss := tw.issuerOf(c); {
	case bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil:
	case iss != nil && depth < 16:
		if parent, err = tw.twinOf(iss, depth+1); err != nil {
			return nil, err
		}
	default:
		if parent, err = tw.phantom(c.RawIssuer); err != nil {
			return nil, err
		}
	}
	t := &twin{key: key, parent: parent}
	if parent != nil && parent.phantom {
		t.parent = nil
	}
	if parent == nil {
		t.cert, err = create(tmpl, tmpl, &key.PublicKey, key)
	} else {
		t.cert, err = create(tmpl, parent.cert, &key.PublicKey, parent.key)
	}
	if err != nil {
		return nil, err
	}
	tw.certs[string(c.Raw)] = t
	return t, nil
}

// twinTemplate copies what validation reads from a CA certificate.
func twinTemplate(c *x509.Certificate) *x509.Certificate {
	serial := c.SerialNumber
	if serial == nil || serial.Sign() <= 0 {
		serial = big.NewInt(1)
	}
	return &x509.Certificate{
		SerialNumber: serial, RawSubject: c.RawSubject, NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		KeyUsage: c.KeyUsage, ExtKeyUsage: c.ExtKeyUsage, UnknownExtKeyUsage: c.UnknownExtKeyUsage,
		BasicConstraintsValid: c.BasicConstraintsValid, IsCA: c.IsCA, MaxPathLen: c.MaxPathLen, MaxPathLenZero: c.MaxPathLenZero,
		DNSNames: c.DNSNames, EmailAddresses: c.EmailAddresses, IPAddresses: c.IPAddresses, URIs: c.URIs,
		PermittedDNSDomainsCritical: c.PermittedDNSDomainsCritical, PermittedDNSDomains: c.PermittedDNSDomains,
		ExcludedDNSDomains: c.ExcludedDNSDomains, PermittedIPRanges: c.PermittedIPRanges, ExcludedIPRanges: c.ExcludedIPRanges,
		PermittedEmailAddresses: c.PermittedEmailAddresses, ExcludedEmailAddresses: c.ExcludedEmailAddresses,
		PermittedURIDomains: c.PermittedURIDomains, ExcludedURIDomains: c.ExcludedURIDomains,
	}
}

// phantom is a CA that bears an issuer's name but is in no bundle: it signs
// the twins of certificates whose issuer the configuration does not hold.
func (tw *twins) phantom(name []byte) (*twin, error) {
	if t, ok := tw.phant[string(name)]; ok {
		return t, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), RawSubject: name, NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	c, err := create(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	t := &twin{cert: c, key: key, phantom: true}
	tw.phant[string(name)] = t
	return t, nil
}

// crlTwin re-signs a CRL with its issuer's twin (or a phantom, when no CA
// of the pool signed it), listing the same serials plus the twin's own.
func (tw *twins) crlTwin(l *x509.RevocationList) (*x509.RevocationList, error) {
	var signer *twin
	var err error
	if iss := tw.crlIssuer(l); iss != nil {
		signer, err = tw.twinOf(iss, 0)
	} else {
		signer, err = tw.phantom(l.RawIssuer)
	}
	if err != nil {
		return nil, err
	}
	if signer.revoked == nil {
		if signer.revoked, err = randomSerial(); err != nil {
			return nil, err
		}
	}
	entries := append([]x509.RevocationListEntry{}, l.RevokedCertificateEntries...)
	entries = append(entries, x509.RevocationListEntry{SerialNumber: signer.revoked, RevocationTime: l.ThisUpdate})
	number := l.Number
	if number == nil {
		number = big.NewInt(1)
	}
	next := l.NextUpdate
	if next.IsZero() {
		next = l.ThisUpdate.AddDate(100, 0, 0) // no nextUpdate: never stale
	}
	issuer := *signer.cert
	issuer.KeyUsage |= x509.KeyUsageCRLSign // the original CA signed it, whatever its key usage says
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: number, ThisUpdate: l.ThisUpdate, NextUpdate: next, RevokedCertificateEntries: entries,
	}, &issuer, signer.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(der)
}

// crlIssuer is the CA of the pool whose key signed a CRL.
func (tw *twins) crlIssuer(l *x509.RevocationList) *x509.Certificate {
	for _, cand := range tw.pool {
		if bytes.Equal(cand.RawSubject, l.RawIssuer) && l.CheckSignatureFrom(cand) == nil {
			return cand
		}
	}
	return nil
}

// create signs a certificate and parses it back.
func create(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// randomSerial is a positive 127-bit serial.
func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// resources returns a copy of the resources whose validation contexts hold
// the twins.
func (tw *twins) resources(res *envoymodel.Resources) *envoymodel.Resources {
	out := *res
	out.Secrets = make([]*tlsv3.Secret, len(res.Secrets))
	for i, s := range res.Secrets {
		vc := s.GetValidationContext()
		if vc == nil {
			out.Secrets[i] = s
			continue
		}
		c := proto.Clone(s).(*tlsv3.Secret)
		v := c.GetValidationContext()
		if v.TrustedCa != nil {
			v.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: tw.rewrite(inline(v.TrustedCa))}}
		}
		if v.Crl != nil {
			v.Crl = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: tw.rewrite(inline(v.Crl))}}
		}
		out.Secrets[i] = c
	}
	return &out
}

// rewrite replaces every certificate and CRL of a PEM bundle by its twin.
func (tw *twins) rewrite(b []byte) []byte {
	var out []byte
	for _, blk := range pemBlocks(b) {
		switch {
		case blk.Type == "CERTIFICATE" && tw.certs[string(blk.Bytes)] != nil:
			blk = &pem.Block{Type: blk.Type, Bytes: tw.certs[string(blk.Bytes)].cert.Raw}
		case blk.Type == "X509 CRL" && tw.crls[string(blk.Bytes)] != nil:
			blk = &pem.Block{Type: blk.Type, Bytes: tw.crls[string(blk.Bytes)].Raw}
		}
		out = append(out, pem.EncodeToMemory(blk)...)
	}
	return out
}

// intent gives the judge the twins: every server's roots and CRLs.
func (tw *twins) intent(in *Intent) {
	for _, s := range in.Servers {
		v := s.Validation
		if v == nil {
			continue
		}
		for i, r := range v.Roots {
			if t := tw.certs[string(r.Raw)]; t != nil {
				v.Roots[i] = t.cert
			}
		}
		for i, l := range v.CRLs {
			if t := tw.crls[string(l.Raw)]; t != nil {
				v.CRLs[i] = t
			}
		}
		v.memo.Clear()
	}
}
