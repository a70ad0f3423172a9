package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/translate"
)

// noListeners is what a group gets from an emptied or deleted file: no
// listener, and so no route configuration or secret either.
func noListeners(r *translate.Resources) {
	r.Listeners, r.Routes, r.Secrets = nil, nil, nil
}

// TestHoldEmptyingAGroupWithProxies: a reload that would take every
// listener away from a group with connected proxies is held back, shown on
// /debug/reload and in the metrics, and nothing reaches the proxies; it is
// applied once they disconnect, or at once with AllowEmptyGroups.
func TestHoldEmptyingAGroupWithProxies(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			e := h.ready(t, envoytest.Options{Delta: delta})
			mark := len(e.Responses())
			h.set(func(h *harness) { h.edit = noListeners })
			err := h.reload()
			if err == nil || !strings.Contains(err.Error(), `group "app=gateway": the new configuration has no listener for this group, which has 1 connected proxies: held back`) {
				t.Fatalf("Reload = %v, want it held back", err)
			}
			st := h.reloadStatus()
			want := []server.HeldChange{{Group: "app=gateway", Reason: server.HoldNoListeners, Proxies: 1}}
			if len(st.Held) != 1 || st.Held[0].Group != want[0].Group || st.Held[0].Reason != want[0].Reason || st.Held[0].Proxies != 1 || st.OK {
				t.Errorf("/debug/reload held %+v ok %v, want %+v and not ok", st.Held, st.OK, want)
			}
			for metric, want := range map[string]string{
				`trustgate_reload_held_total{reason="no_listeners"}`: "1",
				"trustgate_reload_held":                              "1",
			} {
				if line, err := h.metric(metric); err != nil || line != metric+" "+want {
					t.Errorf("%s = %q (%v), want %s", metric, line, err, want)
				}
			}
			if got := e.Responses()[mark:]; len(got) != 0 {
				t.Errorf("a held-back reload pushed %d responses", len(got))
			}

			// Once the group's proxy has gone, the change is applied.
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the held-back reload to be applied", func() error {
				if st := h.reloadStatus(); !st.OK || len(st.Held) != 0 {
					return fmt.Errorf("status ok %v held %+v", st.OK, st.Held)
				}
				return nil
			})
			if line, err := h.metric("trustgate_reload_held"); err != nil || line != "trustgate_reload_held 0" {
				t.Errorf("trustgate_reload_held = %q (%v), want 0", line, err)
			}
			late := h.envoy(envoytest.Options{Delta: delta, NodeID: "late"})
			v, err := late.Wait(timeout, "the empty configuration", func(v envoytest.View) bool {
				_, lds := v.Versions[envoytest.ListenerType]
				return lds
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Listeners) != 0 {
				t.Errorf("a proxy connecting after the change got %d listeners, want 0", len(v.Listeners))
			}
		})
	}
}

func TestAllowEmptyGroups(t *testing.T) {
	tests := map[string]struct {
		allow, connected bool
	}{
		"AllowEmptyGroups lets it through":    {allow: true, connected: true},
		"a group without proxies is not held": {allow: false, connected: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			opts := h.options()
			opts.AllowEmptyGroups = tc.allow
			h.start(opts)
			e := h.ready(t, envoytest.Options{})
			if !tc.connected {
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the proxy to be gone", func() error {
					if _, body := h.admin("/debug/proxies"); strings.Contains(body, "gw-1") {
						return fmt.Errorf("still connected: %s", body)
					}
					return nil
				})
			}
			h.set(func(h *harness) { h.edit = noListeners })
			h.mustReload()
			if !tc.connected {
				return
			}
			if _, err := e.Wait(timeout, "no listener", func(v envoytest.View) bool { return len(v.Listeners) == 0 }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHoldInvalidCertificatesAndCRLs: a certificate or CRL that is not
// valid now does not replace a valid one (the reload is held back, nothing
// is pushed); when the served one is not valid either, the newer wins.
func TestHoldInvalidCertificatesAndCRLs(t *testing.T) {
	now := time.Now()
	expiredCert := selfSigned(t, now.Add(-48*time.Hour), now.Add(-time.Hour))
	tests := map[string]struct {
		// serve sets what is served first; change what the reload brings.
		serve, change func(h *harness) error
		held          string // the hold reason; "" when the change goes through
		secret        string
	}{
		"an expired CRL after a valid one": {
			serve:  func(h *harness) error { return h.pki.SetCRL(now.Add(30 * 24 * time.Hour)) },
			change: func(h *harness) error { return h.pki.SetCRL(now.Add(-time.Hour)) },
			held:   server.HoldCRL, secret: fixture.CASecret,
		},
		"a valid CRL after a valid one": {
			serve:  func(h *harness) error { return h.pki.SetCRL(now.Add(30 * 24 * time.Hour)) },
			change: func(h *harness) error { return h.pki.SetCRL(now.Add(60 * 24 * time.Hour)) },
		},
		"an expired CRL after an expired one": {
			serve:  func(h *harness) error { return h.pki.SetCRL(now.Add(-2 * time.Hour)) },
			change: func(h *harness) error { return h.pki.SetCRL(now.Add(-time.Hour)) },
		},
		"an expired certificate after a valid one": {
			serve: func(h *harness) error { return nil },
			change: func(h *harness) error {
				h.edit = func(r *translate.Resources) { replaceCert(r, fixture.CertSecret, expiredCert) }
				return nil
			},
			held: server.HoldCertificate, secret: fixture.CertSecret,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			var err error
			h.set(func(h *harness) { err = tc.serve(h) })
			if err != nil {
				t.Fatal(err)
			}
			h.start(h.options())
			e := h.envoy(envoytest.Options{})
			before, err := e.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			mark := len(e.Responses())
			h.set(func(h *harness) { err = tc.change(h) })
			if err != nil {
				t.Fatal(err)
			}
			rerr := h.reload()
			if tc.held == "" {
				if rerr != nil {
					t.Fatalf("Reload: %v", rerr)
				}
				if _, err := e.Wait(timeout, "the new CRL", func(v envoytest.View) bool {
					return crlOf(v) != crlOf(before)
				}); err != nil {
					t.Fatal(err)
				}
				return
			}
			st := h.reloadStatus()
			if rerr == nil || len(st.Held) != 1 || st.Held[0].Reason != tc.held || st.Held[0].Secret != tc.secret {
				t.Fatalf("Reload = %v, held %+v; want held back for %s of %s", rerr, st.Held, tc.held, tc.secret)
			}
			if !strings.Contains(rerr.Error(), "the served one is valid, so it stays served") {
				t.Errorf("error %q should say the served one stays", rerr)
			}
			if got := e.Responses()[mark:]; len(got) != 0 {
				t.Errorf("a held-back reload pushed %d responses", len(got))
			}
		})
	}
}

func crlOf(v envoytest.View) string {
	return string(v.Secrets[fixture.CASecret].GetValidationContext().GetCrl().GetInlineBytes())
}

// replaceCert swaps a certificate secret's chain and key.
func replaceCert(r *translate.Resources, name string, pair [2][]byte) {
	for _, s := range r.Secrets {
		if s.GetName() != name {
			continue
		}
		c := s.GetTlsCertificate()
		c.CertificateChain.Specifier = inlineBytes(pair[0])
		c.PrivateKey.Specifier = inlineBytes(pair[1])
	}
}

func inlineBytes(b []byte) *corev3.DataSource_InlineBytes {
	return &corev3.DataSource_InlineBytes{InlineBytes: b}
}

// selfSigned makes a certificate and key (PEM) valid from notBefore to
// notAfter.
func selfSigned(t *testing.T, notBefore, notAfter time.Time) [2][]byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "gw.example.com"},
		DNSNames: []string{"gw.example.com"}, NotBefore: notBefore, NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return [2][]byte{
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}
