package envoymodel

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"net/netip"
	"strings"
	"sync"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// The model explains many connections on the same resources, most of them
// presenting the same few client chains (package props sends thousands).
// These results are memoized, none of which can change for a Model:
//
//   - a chain's validation context (PEM parsed, SDS merged): the resources
//     never change after New, so it is resolved once per filter chain;
//   - a signature check: whether one certificate or CRL was signed by a key
//     depends only on their bytes, so it is keyed by their SHA-256. ECDSA
//     verification was three quarters of a probe's time before;
//   - what Envoy reports about a client certificate (peerCert), by its DER;
//   - per filter chain, its server-name keys and its server certificate's
//     URI SANs (chain.nameKeys, run.serverURISANs);
//   - the filter chain a socket lands on, per listener and socket.

// sigMemo remembers signature checks by the bytes involved.
type sigMemo struct{ m sync.Map } // [32]byte -> bool

// ok reports whether signed (a certificate's or CRL's DER) was signed by
// the key of signer (a certificate's DER), running check once per pair.
// A nil memo just runs check.
func (s *sigMemo) ok(kind byte, signed, signer []byte, check func() error) bool {
	if s == nil {
		return check() == nil
	}
	h := sha256.New()
	var n [9]byte
	n[0] = kind
	binary.BigEndian.PutUint64(n[1:], uint64(len(signed)))
	h.Write(n[:])
	h.Write(signed)
	h.Write(signer)
	var key [32]byte
	h.Sum(key[:0])
	if v, hit := s.m.Load(key); hit {
		return v.(bool)
	}
	good := check() == nil
	s.m.Store(key, good)
	return good
}

// Kinds of signature checks, kept apart in the memo's keys.
const (
	sigCert byte = 'c' // a certificate by an issuer
	sigSelf byte = 's' // a certificate by its own key
	sigCRL  byte = 'l' // a CRL by an issuer
)

// signedBy reports whether c's signature verifies with issuer's key.
func (s *sigMemo) signedBy(c, issuer *x509.Certificate) bool {
	return s.ok(sigCert, c.Raw, issuer.Raw, func() error { return c.CheckSignatureFrom(issuer) })
}

// selfSigned reports whether c's signature verifies with its own key.
func (s *sigMemo) selfSigned(c *x509.Certificate) bool {
	return s.ok(sigSelf, c.Raw, nil, func() error {
		return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
	})
}

// crlSignedBy reports whether a CRL's signature verifies with issuer's key.
func (s *sigMemo) crlSignedBy(l *x509.RevocationList, issuer *x509.Certificate) bool {
	return s.ok(sigCRL, l.Raw, issuer.Raw, func() error { return l.CheckSignatureFrom(issuer) })
}

// validationMemo is a resolved validation context, or the error resolving
// it gave.
type validationMemo struct {
	v   *validation
	err error
}

// downstreamValidation is resolveValidation for a filter chain's own
// DownstreamTlsContext (parsed once at New, so its pointer names it),
// resolved once.
func (m *Model) downstreamValidation(ctx *tlsv3.DownstreamTlsContext) (*validation, error) {
	if got, hit := m.validations.Load(ctx); hit {
		r := got.(validationMemo)
		return r.v, r.err
	}
	v, err := m.resolveValidation(ctx.GetCommonTlsContext())
	m.validations.Store(ctx, validationMemo{v: v, err: err})
	return v, err
}

// peerCert is newPeerCert, once per certificate (peerCerts are not
// changed once made).
func (m *Model) peerCert(c *x509.Certificate) *peerCert {
	if got, hit := m.peers.Load(string(c.Raw)); hit {
		return got.(*peerCert)
	}
	p := newPeerCert(c)
	m.peers.Store(string(c.Raw), p)
	return p
}

// socketKey is a listener and what filter-chain matching reads of a socket.
type socketKey struct {
	l                     *listener
	local                 netip.Addr
	port                  uint32
	sni, transport, alpns string
}

// chainChoice is findFilterChain's answer.
type chainChoice struct {
	c   *chain
	why string
}

// filterChain is findFilterChain, once per listener and socket.
func (m *Model) filterChain(l *listener, s socket) (*chain, string) {
	key := socketKey{l: l, local: s.local, port: s.port, sni: s.sni, transport: s.transport, alpns: strings.Join(s.alpn, "\x00")}
	if got, hit := m.chains.Load(key); hit {
		ch := got.(chainChoice)
		return ch.c, ch.why
	}
	c, why := matchFilterChain(l, m.addrStage(l, s.port, s.local), s)
	m.chains.Store(key, chainChoice{c: c, why: why})
	return c, why
}

// addrKey is a listener and a destination port and address.
type addrKey struct {
	l     *listener
	port  uint32
	local netip.Addr
}

// addrStage is newAddrStage, once per listener, port and address.
func (m *Model) addrStage(l *listener, port uint32, local netip.Addr) *addrStage {
	key := addrKey{l: l, port: port, local: local}
	if got, hit := m.stages.Load(key); hit {
		return got.(*addrStage)
	}
	st, _ := m.stages.LoadOrStore(key, newAddrStage(l, port, local))
	return st.(*addrStage)
}
