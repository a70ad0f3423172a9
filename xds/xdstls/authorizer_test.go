package xdstls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func bufferLogger() (*slog.Logger, *syncBuffer) {
	var b syncBuffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

// verified is the context of a stream whose client certificate names these.
func verified(uri, dns, cn string) context.Context {
	c := &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
	if uri != "" {
		u, err := url.Parse(uri)
		if err != nil {
			panic(err)
		}
		c.URIs = []*url.URL{u}
	}
	if dns != "" {
		c.DNSNames = []string{dns}
	}
	return peerContext(tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{c}}})
}

// writeFile writes b to path with a modification time that differs from
// the previous write's, however coarse the file system's clock.
func writeFile(t *testing.T, path string, b []byte, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestAuthorize(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "authz.yaml")
	writeFile(t, policy, []byte("- identity: spiffe://example.org/gw/*\n  labels: {app: gw}\n- identity: gw-cn\n  labels: {app: cn}\n"), epoch)
	log, _ := bufferLogger()
	withPolicy, err := NewAuthorizer(policy, log)
	if err != nil {
		t.Fatal(err)
	}
	identityOnly, err := NewAuthorizer("", log)
	if err != nil {
		t.Fatal(err)
	}
	spiffe := verified("spiffe://example.org/gw/a", "gw-a.example.org", "gw-cn")
	gw := map[string]string{"app": "gw"}
	tests := map[string]struct {
		authz      *Authorizer
		ctx        context.Context
		id         string
		labels     map[string]string
		wantReason string // "" accepts
		wantIn     string
	}{
		"URI SAN":                      {authz: identityOnly, ctx: spiffe, id: "spiffe://example.org/gw/a", labels: gw},
		"DNS SAN":                      {authz: identityOnly, ctx: spiffe, id: "gw-a.example.org"},
		"CN":                           {authz: identityOnly, ctx: spiffe, id: "gw-cn", labels: map[string]string{"any": "thing"}},
		"another proxy's id":           {authz: identityOnly, ctx: spiffe, id: "spiffe://example.org/gw/b", labels: gw, wantReason: ReasonNodeID, wantIn: `node id "spiffe://example.org/gw/b" is not an identity of the client certificate (URI SANs, DNS SANs, CN: "spiffe://example.org/gw/a", "gw-a.example.org", "gw-cn")`},
		"empty id":                     {authz: identityOnly, ctx: spiffe, id: "", wantReason: ReasonNodeID},
		"no certificate":               {authz: identityOnly, ctx: context.Background(), id: "gw-cn", wantReason: ReasonNoCertificate},
		"policy: allowed":              {authz: withPolicy, ctx: spiffe, id: "spiffe://example.org/gw/a", labels: gw},
		"policy: CN allowed its own":   {authz: withPolicy, ctx: spiffe, id: "gw-cn", labels: map[string]string{"app": "cn"}},
		"policy: CN claims the URI's":  {authz: withPolicy, ctx: spiffe, id: "gw-cn", labels: gw, wantReason: ReasonLabels, wantIn: `identity "gw-cn" may not claim labels app=gw; the xDS authorization policy allows it app=cn (` + policy + `:3)`},
		"policy: no entry":             {authz: withPolicy, ctx: spiffe, id: "gw-a.example.org", labels: gw, wantReason: ReasonLabels, wantIn: "no entry"},
		"policy: no labels":            {authz: withPolicy, ctx: spiffe, id: "spiffe://example.org/gw/a", wantReason: ReasonLabels, wantIn: "labels {}"},
		"policy: identity checked too": {authz: withPolicy, ctx: spiffe, id: "spiffe://example.org/gw/b", labels: gw, wantReason: ReasonNodeID},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.authz.Authorize(tc.ctx, tc.id, tc.labels)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var d *Denial
			if !errors.As(err, &d) || d.DenyReason() != tc.wantReason {
				t.Fatalf("error %v, want a denial for %s", err, tc.wantReason)
			}
			if !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("error %q lacks %q", err, tc.wantIn)
			}
		})
	}
}

// A URI-shaped identity (a SPIFFE ID) is proved only by a URI SAN: a CA that
// signs a subject or a DNS name for a proxy does not thereby vouch for a
// SPIFFE ID, and a CN or DNS SAN spelled like one must not pass for it.
func TestAuthorizeURIIdentityOnlyFromURISAN(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "authz.yaml")
	writeFile(t, policy, []byte("- identity: spiffe://example.org/gateway/edge-*\n  labels: {app: edge}\n- identity: spiffe://example.org/gateway/edge-9\n  labels: {app: exact}\n"), epoch)
	log, _ := bufferLogger()
	withPolicy, err := NewAuthorizer(policy, log)
	if err != nil {
		t.Fatal(err)
	}
	identityOnly, err := NewAuthorizer("", log)
	if err != nil {
		t.Fatal(err)
	}
	const id = "spiffe://example.org/gateway/edge-9"
	edge := map[string]string{"app": "edge"}
	tests := map[string]struct {
		authz      *Authorizer
		ctx        context.Context
		labels     map[string]string
		wantReason string // "" accepts
	}{
		"URI SAN, prefix pattern":            {authz: withPolicy, ctx: verified(id, "", "edge-9"), labels: edge},
		"URI SAN, exact pattern":             {authz: withPolicy, ctx: verified(id, "", "edge-9"), labels: map[string]string{"app": "exact"}},
		"CN shaped like the URI":             {authz: withPolicy, ctx: verified("", "", id), labels: edge, wantReason: ReasonNodeID},
		"CN shaped like the URI, exact":      {authz: withPolicy, ctx: verified("", "", id), labels: map[string]string{"app": "exact"}, wantReason: ReasonNodeID},
		"DNS SAN shaped like the URI":        {authz: withPolicy, ctx: verified("", id, "edge-9"), labels: edge, wantReason: ReasonNodeID},
		"CN shaped like the URI, no policy":  {authz: identityOnly, ctx: verified("", "", id), labels: edge, wantReason: ReasonNodeID},
		"another URI SAN, CN shaped like it": {authz: withPolicy, ctx: verified("spiffe://example.org/other", "", id), labels: edge, wantReason: ReasonNodeID},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.authz.Authorize(tc.ctx, id, tc.labels)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var d *Denial
			if !errors.As(err, &d) || d.DenyReason() != tc.wantReason {
				t.Fatalf("error %v, want a denial for %s", err, tc.wantReason)
			}
			if want := "proved only by a URI SAN"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		})
	}
}

func TestPolicyReloads(t *testing.T) {
	policy := filepath.Join(t.TempDir(), "authz.yaml")
	writeFile(t, policy, []byte("- identity: gw\n  labels: {app: a}\n"), epoch)
	log, logs := bufferLogger()
	a, err := NewAuthorizer(policy, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := verified("", "", "gw")
	allowed := func(app string) bool { return a.Authorize(ctx, "gw", map[string]string{"app": app}) == nil }
	if !allowed("a") || allowed("b") {
		t.Fatal("initial policy not applied")
	}
	writeFile(t, policy, []byte("- identity: gw\n  labels: {app: b}\n"), epoch.Add(time.Second))
	if allowed("a") || !allowed("b") {
		t.Fatal("the changed policy was not picked up")
	}
	// A broken policy keeps the last good one and says so once.
	writeFile(t, policy, []byte("- identity: gw\n  lables: {app: c}\n"), epoch.Add(2*time.Second))
	if allowed("c") || !allowed("b") || !allowed("b") {
		t.Fatal("a broken policy was not ignored")
	}
	if n := strings.Count(logs.String(), "does not load"); n != 1 {
		t.Errorf("%d errors logged for one broken change, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), `unknown field \"lables\"`) {
		t.Errorf("the log does not say what is wrong:\n%s", logs)
	}
	// Removing the file is a broken change too.
	if err := os.Remove(policy); err != nil {
		t.Fatal(err)
	}
	if !allowed("b") {
		t.Fatal("a removed policy was not ignored")
	}
	if _, err := NewAuthorizer(filepath.Join(t.TempDir(), "missing.yaml"), log); err == nil {
		t.Error("NewAuthorizer accepted a missing policy file")
	}
}
