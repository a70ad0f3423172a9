package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	h.set(func(h *harness) { h.loadErr = errors.New("gateway.yaml:1: not yet") })
	h.start(h.options())
	if code, body := h.admin("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	if code, _ := h.admin("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before any configuration = %d, want 503", code)
	}
	if code, _ := h.admin("/debug/config"); code != http.StatusServiceUnavailable {
		t.Errorf("/debug/config before any configuration = %d, want 503", code)
	}
	h.set(func(h *harness) { h.loadErr = nil })
	h.mustReload()
	if code, body := h.admin("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after a configuration = %d %q, want 200", code, body)
	}
	// Readiness stays once reached: a later broken reload keeps serving.
	h.set(func(h *harness) { h.loadErr = errors.New("gateway.yaml:1: broken") })
	if err := h.reload(); err == nil {
		t.Fatal("broken reload succeeded")
	}
	if code, _ := h.admin("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after a broken reload = %d, want 200", code)
	}
}

func TestDebugConfig(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	h.start(h.options())
	tests := map[string]struct {
		query    string
		compErr  error
		wantCode int
		wantIn   string
	}{
		"labels":         {query: "?node-labels=app=gateway,zone=a", wantCode: http.StatusOK, wantIn: fixture.ListenerName},
		"no labels":      {query: "", wantCode: http.StatusOK, wantIn: fixture.ListenerName},
		"bad labels":     {query: "?node-labels=app", wantCode: http.StatusBadRequest, wantIn: "no '='"},
		"compile errors": {query: "?node-labels=app=x", compErr: errors.New("vs.yaml:3: no host"), wantCode: http.StatusUnprocessableEntity, wantIn: "vs.yaml:3: no host"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h.set(func(h *harness) { h.compErr = tc.compErr })
			h.mustReload() // no group is served, so nothing is compiled yet
			code, body := h.admin("/debug/config" + tc.query)
			if code != tc.wantCode || !strings.Contains(body, tc.wantIn) {
				t.Errorf("GET /debug/config%s = %d %s\nwant %d containing %q", tc.query, code, body, tc.wantCode, tc.wantIn)
			}
			if strings.Contains(body, "PRIVATE KEY") {
				t.Errorf("/debug/config shows a private key:\n%s", body)
			}
		})
	}
}

func TestDebugProxies(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true})
			h.start(h.options())
			e := h.envoy(envoytest.Options{Delta: delta, NodeID: "gw-7", Cluster: "edge"})
			v, err := e.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"listener": v.Versions[envoytest.ListenerType], "route": v.Versions[envoytest.RouteType],
				"cluster": v.Versions[envoytest.ClusterType], "endpoint": v.Versions[envoytest.EndpointType],
				"secret": v.Versions[envoytest.SecretType],
			}
			// The client has the configuration once it sent its ACKs; the
			// server records them when it reads them.
			eventually(t, "every type ACKed on /debug/proxies", func() error {
				ps := h.proxies()
				if len(ps) != 1 {
					return fmt.Errorf("%d proxies", len(ps))
				}
				p := ps[0]
				if p.NodeID != "gw-7" || p.Cluster != "edge" || p.Group != "app=gateway" || p.Protocol != proto {
					return fmt.Errorf("proxy %+v", p)
				}
				for typ, version := range want {
					if got := p.Types[typ].AckedVersion; got != version {
						return fmt.Errorf("%s acked %q, want %q", typ, got, version)
					}
					if p.Types[typ].Pending != 0 {
						return fmt.Errorf("%s has %d pushes pending", typ, p.Types[typ].Pending)
					}
				}
				return nil
			})
			if line, err := h.metric("trustgate_xds_connected_proxies"); err != nil || line != "trustgate_xds_connected_proxies 1" {
				t.Errorf("connected proxies = %q (%v), want 1", line, err)
			}
			if line, err := h.metric(`trustgate_xds_push_ack_seconds_count{type="listener"}`); err != nil || line == `trustgate_xds_push_ack_seconds_count{type="listener"} 0` {
				t.Errorf("push-to-ACK latency for listeners = %q (%v), want samples", line, err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the proxy gone from /debug/proxies", func() error {
				if ps := h.proxies(); len(ps) != 0 {
					return fmt.Errorf("%d proxies", len(ps))
				}
				return nil
			})
		})
	}
}

func (h *harness) proxies() []server.ProxyStatus {
	h.t.Helper()
	code, body := h.admin("/debug/proxies")
	if code != http.StatusOK {
		h.t.Fatalf("/debug/proxies: %d %s", code, body)
	}
	var ps []server.ProxyStatus
	if err := json.Unmarshal([]byte(body), &ps); err != nil {
		h.t.Fatal(err)
	}
	return ps
}

func TestCertificateMetrics(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}, UpstreamClientCert: true})
	h.start(h.options())
	// Metrics cover the groups being served: none until a proxy connects.
	if _, err := h.metric(fmt.Sprintf("trustgate_certificate_expiry_timestamp_seconds{secret=%q}", fixture.CertSecret)); err == nil {
		t.Errorf("certificate metric present before any group is served")
	}
	h.ready(t, envoytest.Options{})
	want := map[string]time.Time{
		fmt.Sprintf("trustgate_certificate_expiry_timestamp_seconds{secret=%q}", fixture.CertSecret):   h.pki.LeafNotAfter,
		fmt.Sprintf("trustgate_certificate_expiry_timestamp_seconds{secret=%q}", fixture.ClientSecret): h.pki.LeafNotAfter,
		fmt.Sprintf("trustgate_crl_next_update_timestamp_seconds{secret=%q}", fixture.CASecret):        h.pki.CRLNextUpdate,
		fmt.Sprintf("trustgate_ca_certificate_expiry_timestamp_seconds{secret=%q}", fixture.CASecret):  time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for sample, at := range want {
		wantLine := fmt.Sprintf("%s %g", sample, float64(at.Unix()))
		if line, err := h.metric(sample); err != nil || line != wantLine {
			t.Errorf("got %q (%v), want %q", line, err, wantLine)
		}
	}
	// A new CRL moves the gauge.
	next := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	h.set(func(h *harness) { must(t, h.pki.SetCRL(next)) })
	h.mustReload()
	sample := fmt.Sprintf("trustgate_crl_next_update_timestamp_seconds{secret=%q}", fixture.CASecret)
	if line, err := h.metric(sample); err != nil || line != fmt.Sprintf("%s %g", sample, float64(next.Unix())) {
		t.Errorf("after a new CRL got %q (%v)", line, err)
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			opts := h.options()
			opts.ShutdownTimeout = time.Hour // graceful stop must not wait on open streams
			srv, err := server.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, lis, nil) }()
			e := dialEnvoy(t, lis.Addr().String(), envoytest.Options{Delta: delta})
			if _, err := e.WaitComplete(timeout); err != nil {
				cancel()
				t.Fatal(err)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(timeout):
				t.Fatal("Serve did not return after its context ended while a proxy was connected")
			}
		})
	}
}
