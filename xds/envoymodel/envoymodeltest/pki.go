package envoymodeltest

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/internal/goldentest"
	"github.com/trustgate/trustgate/internal/pembundle"
)

// PKI is the golden cases' PKI (the same secret names as the pipeline's
// golden test) plus the client certificates a connection can present.
type PKI struct {
	*goldentest.PKI
	// Now is when it was made; certificates are judged at Now.
	Now time.Time
	// Clients are client chains as a client sends them (leaf first, then
	// the intermediate), by name.
	Clients map[string][]*x509.Certificate
}

// Client names.
const (
	// Valid: CN=alice,O=Example, URI spiffe://example.com/alice.
	Alice = "alice"
	// Valid: CN=bob,O=Example Ops, no SAN.
	Bob = "bob"
	// Revoked: the golden "client" (CN=client,O=Example,
	// URI spiffe://example.com/client).
	Revoked = "client"
	// Signed by another CA: CN=stranger.
	Stranger = "stranger"
	// Expired yesterday: CN=expired.
	Expired = "expired"
	// A DNS SAN *.example.com: CN=wildcard.
	Wildcard = "wildcard"
)

var (
	pkiOnce sync.Once
	pkiVal  *PKI
	pkiErr  error
)

// NewPKI makes the PKI once per test binary.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = makePKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

// issue is one certificate to issue.
type issue struct {
	kind certs.Kind
	opts certs.IssueOptions
}

func makePKI() (*PKI, error) {
	dir, err := os.MkdirTemp("", "trustgate-envoymodel-")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if err := certs.Init(dir, certs.InitOptions{Intermediate: true, Now: now}); err != nil {
		return nil, err
	}
	list := []issue{
		{certs.KindServer, certs.IssueOptions{Name: "server", Hosts: []string{"*.example.com", "example.com", "*.mtls.example.com", "localhost", "127.0.0.1"}}},
		{certs.KindServer, certs.IssueOptions{Name: "httpbin-credential", Hosts: []string{"httpbin.example.com"}}},
		{certs.KindServer, certs.IssueOptions{Name: "backend", Hosts: []string{"backend.internal"}}},
		{certs.KindClient, certs.IssueOptions{Name: Revoked, CommonName: "client", Organization: "Example", URIs: []string{"spiffe://example.com/client"}}},
		{certs.KindClient, certs.IssueOptions{Name: "backend-client", CommonName: "gateway", Organization: "Example"}},
		{certs.KindClient, certs.IssueOptions{Name: Alice, CommonName: "alice", Organization: "Example", URIs: []string{"spiffe://example.com/alice"}}},
		{certs.KindClient, certs.IssueOptions{Name: Bob, CommonName: "bob", Organization: "Example Ops"}},
		{certs.KindClient, certs.IssueOptions{Name: Wildcard, CommonName: "wildcard", Organization: "Example", DNSNames: []string{"*.example.com"}}},
		{certs.KindClient, certs.IssueOptions{Name: Expired, CommonName: "expired", Organization: "Example", Days: 1, Now: now.Add(-72 * time.Hour)}},
	}
	for _, i := range list {
		if i.opts.Now.IsZero() {
			i.opts.Now = now
		}
		if _, err := certs.Issue(dir, i.kind, i.opts); err != nil {
			return nil, fmt.Errorf("issue %s: %w", i.opts.Name, err)
		}
	}
	if _, err := certs.Revoke(dir, Revoked, now); err != nil {
		return nil, err
	}
	if err := certs.WriteCRLs(dir, certs.CRLOptions{Now: now}); err != nil {
		return nil, err
	}
	other := filepath.Join(dir, ".other-ca")
	if err := certs.Init(other, certs.InitOptions{CommonName: "Other CA", Now: now}); err != nil {
		return nil, err
	}
	if _, err := certs.Issue(other, certs.KindClient, certs.IssueOptions{Name: Stranger, CommonName: "stranger", Organization: "Example", Now: now}); err != nil {
		return nil, err
	}
	p := &PKI{PKI: goldentest.NewPKI(dir), Now: now, Clients: map[string][]*x509.Certificate{}}
	if err := p.LabelTree(filepath.Join(dir, certs.DefaultCASecretName)); err != nil {
		return nil, err
	}
	if err := p.LabelTree(dir); err != nil {
		return nil, err
	}
	for _, name := range []string{Alice, Bob, Revoked, Wildcard, Expired} {
		if p.Clients[name], err = readChain(filepath.Join(dir, name, "tls.crt")); err != nil {
			return nil, err
		}
	}
	if p.Clients[Stranger], err = readChain(filepath.Join(other, Stranger, "tls.crt")); err != nil {
		return nil, err
	}
	return p, nil
}

// readChain reads a PEM chain.
func readChain(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := pembundle.Certificates(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
