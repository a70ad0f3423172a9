package server_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/translate"
)

func TestFirstConfig(t *testing.T) {
	specs := map[string]fixture.Spec{
		"listener secrets only": {Prefixes: []string{"/"}},
		// The clusters' secrets are asked for before the listeners exist:
		// the server must answer that partial SDS request.
		"EDS cluster with an upstream client certificate": {Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true},
	}
	for proto, delta := range protocols {
		for name, spec := range specs {
			t.Run(proto+"/"+name, func(t *testing.T) {
				h := newHarness(t, spec)
				h.start(h.options())
				want, err := fixture.Resources(h.spec)
				if err != nil {
					t.Fatal(err)
				}
				e := h.envoy(envoytest.Options{Delta: delta})
				v, err := e.WaitComplete(timeout)
				if err != nil {
					t.Fatal(err)
				}
				assertView(t, want, v)
			})
		}
	}
}

// assertView compares what a fake Envoy holds with the resources served.
func assertView(t *testing.T, want *translate.Resources, v envoytest.View) {
	t.Helper()
	byName := func(names []string) []string { slices.Sort(names); return names }
	got := &translate.Resources{}
	for _, n := range byName(keys(v.Listeners)) {
		got.Listeners = append(got.Listeners, v.Listeners[n])
	}
	for _, n := range byName(keys(v.Routes)) {
		got.Routes = append(got.Routes, v.Routes[n])
	}
	for _, n := range byName(keys(v.Clusters)) {
		got.Clusters = append(got.Clusters, v.Clusters[n])
	}
	for _, n := range byName(keys(v.Endpoints)) {
		got.Endpoints = append(got.Endpoints, v.Endpoints[n])
	}
	for _, n := range byName(keys(v.Secrets)) {
		got.Secrets = append(got.Secrets, v.Secrets[n])
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("fake Envoy holds (-served +held):\n%s", diff)
	}
}

func keys[M any](m map[string]M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestEditReachesProxy(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			e := h.envoy(envoytest.Options{Delta: delta})
			before, err := e.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			h.set(func(h *harness) { h.spec.Prefixes = []string{"/", "/new"} })
			h.mustReload()
			after, err := e.Wait(timeout, "the new route", func(v envoytest.View) bool {
				return len(v.Routes[fixture.RouteName].GetVirtualHosts()[0].GetRoutes()) == 2
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := after.Routes[fixture.RouteName].GetVirtualHosts()[0].GetRoutes()[1].GetMatch().GetPrefix(); got != "/new" {
				t.Errorf("second route prefix = %q, want /new", got)
			}
			for _, typ := range []string{envoytest.ListenerType, envoytest.ClusterType, envoytest.SecretType} {
				if before.Versions[typ] != after.Versions[typ] {
					t.Errorf("%s version changed from %q to %q on a route edit", typ, before.Versions[typ], after.Versions[typ])
				}
			}
			if before.Versions[envoytest.RouteType] == after.Versions[envoytest.RouteType] {
				t.Errorf("route version unchanged after a route edit")
			}
		})
	}
}

// barrier makes one more secret-only change and waits for the proxy to hold
// it. Responses to one reload are queued on the stream before the next
// reload's, in order, so once the barrier arrives, everything an earlier
// reload caused has arrived too. It returns the secrets' new version.
func (h *harness) barrier(e *envoytest.Client, number int64) string {
	h.t.Helper()
	h.set(func(h *harness) {
		if err := h.pki.SetCRL(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(number) * time.Second)); err != nil {
			h.t.Fatal(err)
		}
	})
	h.mustReload()
	crl := h.pki.CRLPEM
	v, err := e.Wait(timeout, "the barrier CRL", func(v envoytest.View) bool {
		return string(v.Secrets[fixture.CASecret].GetValidationContext().GetCrl().GetInlineBytes()) == string(crl)
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return v.Versions[envoytest.SecretType]
}

func TestSecretChangeSendsSecretsOnly(t *testing.T) {
	changes := map[string]func(*testing.T, *fixture.PKI){
		"certificate rotation": func(t *testing.T, p *fixture.PKI) {
			fresh, err := fixture.NewPKI(t.TempDir(), "test-ca", "gw.example.com", p.CRLNextUpdate)
			if err != nil {
				t.Fatal(err)
			}
			p.CertPEM, p.KeyPEM = fresh.CertPEM, fresh.KeyPEM
		},
		"new CRL": func(t *testing.T, p *fixture.PKI) {
			if err := p.SetCRL(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
		},
	}
	for proto, delta := range protocols {
		for name, change := range changes {
			t.Run(proto+"/"+name, func(t *testing.T) {
				h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true})
				h.start(h.options())
				e := h.envoy(envoytest.Options{Delta: delta})
				before, err := e.WaitComplete(timeout)
				if err != nil {
					t.Fatal(err)
				}
				mark := len(e.Responses())
				h.set(func(h *harness) { change(t, h.pki) })
				h.mustReload()
				h.barrier(e, 100)
				after := e.View()
				for _, r := range e.Responses()[mark:] {
					if r.TypeURL != envoytest.SecretType {
						t.Errorf("a secret change sent %s %v (version %.12s)", r.TypeURL, r.Names, r.Version)
					}
				}
				for _, typ := range []string{envoytest.ListenerType, envoytest.RouteType, envoytest.ClusterType, envoytest.EndpointType} {
					if before.Versions[typ] != after.Versions[typ] {
						t.Errorf("%s version changed on a secret change", typ)
					}
				}
				if diff := cmp.Diff(before.Listeners, after.Listeners, protocmp.Transform()); diff != "" {
					t.Errorf("listeners changed (-before +after):\n%s", diff)
				}
				want, err := fixture.Resources(h.spec)
				if err != nil {
					t.Fatal(err)
				}
				assertView(t, want, after)
			})
		}
	}
}

func TestNoChangeNoPush(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			e := h.ready(t, envoytest.Options{Delta: delta})
			mark := len(e.Responses())
			h.mustReload() // same files
			h.barrier(e, 100)
			for _, r := range e.Responses()[mark:] {
				if r.TypeURL != envoytest.SecretType {
					t.Errorf("an unchanged reload sent %s %v", r.TypeURL, r.Names)
				}
			}
		})
	}
}

func TestReconnectResendsNothing(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true})
			h.start(h.options())
			e := h.ready(t, envoytest.Options{Delta: delta})
			h.waitServerAcked(e)
			mark := len(e.Responses())
			if err := e.Reconnect(context.Background()); err != nil {
				t.Fatal(err)
			}
			barrier := h.barrier(e, 100)
			for _, r := range e.Responses()[mark:] {
				// Allowed: the barrier, and the empty answers a delta server
				// owes a fresh wildcard subscription.
				if len(r.Names) > 0 && !isBarrier(r, barrier) {
					t.Errorf("resent on reconnect: %s %v", r.TypeURL, r.Names)
				}
			}
		})
	}
}

// isBarrier reports whether r is the barrier's secret push (in SotW it
// carries every secret asked for: the version is the type's).
func isBarrier(r envoytest.Response, version string) bool {
	return r.TypeURL == envoytest.SecretType && r.Version == version
}

func TestTwoServersAgree(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			a := newHarness(t, fixture.Spec{Prefixes: []string{"/", "/api"}, EDS: true, UpstreamClientCert: true})
			a.start(a.options())
			// The second server loads the same files: same resources.
			b := &harness{t: t, pki: a.pki, spec: a.spec, compiles: &compileCounter{n: map[string]int{}}}
			b.start(b.options())

			ea := a.envoy(envoytest.Options{Delta: delta})
			eb := b.envoy(envoytest.Options{Delta: delta})
			va, err := ea.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			vb, err := eb.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(va.Versions, vb.Versions); diff != "" {
				t.Errorf("type versions differ between servers (-a +b):\n%s", diff)
			}
			if diff := cmp.Diff(va.ResourceVersions, vb.ResourceVersions); diff != "" {
				t.Errorf("resource versions differ between servers (-a +b):\n%s", diff)
			}

			// Failing over from a to b: only what b cannot know the proxy
			// holds is sent (for SotW, the secrets; for delta, nothing).
			mark := len(ea.Responses())
			if err := ea.Failover(context.Background(), b.addr); err != nil {
				t.Fatal(err)
			}
			barrier := b.barrier(ea, 100)
			for _, r := range ea.Responses()[mark:] {
				if len(r.Names) > 0 && !isBarrier(r, barrier) && (delta || r.TypeURL != envoytest.SecretType) {
					t.Errorf("resent on failover: %s %v", r.TypeURL, r.Names)
				}
			}
		})
	}
}

func TestProxiesWithEqualLabelsShareASnapshot(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			gw := map[string]string{"app": "gateway", "zone": "a"}
			e1 := h.envoy(envoytest.Options{Delta: delta, NodeID: "gw-1", Labels: gw})
			e2 := h.envoy(envoytest.Options{Delta: delta, NodeID: "gw-2", Labels: map[string]string{"zone": "a", "app": "gateway"}})
			e3 := h.envoy(envoytest.Options{Delta: delta, NodeID: "other", Labels: map[string]string{"app": "other"}})
			for _, e := range []*envoytest.Client{e1, e2, e3} {
				if _, err := e.WaitComplete(timeout); err != nil {
					t.Fatal(err)
				}
			}
			if n := h.compiles.get("app=gateway,zone=a"); n != 1 {
				t.Errorf("group app=gateway,zone=a compiled %d times for two proxies, want 1", n)
			}
			if n := h.compiles.get("app=other"); n != 1 {
				t.Errorf("group app=other compiled %d times, want 1", n)
			}
			h.mustReload()
			if n := h.compiles.get("app=gateway,zone=a"); n != 2 {
				t.Errorf("after a reload group app=gateway,zone=a compiled %d times, want 2", n)
			}
		})
	}
}

func TestBrokenReloadKeepsLastGood(t *testing.T) {
	breaks := map[string]struct {
		breakIt func(h *harness)
		want    string
	}{
		"loader error": {
			breakIt: func(h *harness) { h.loadErr = errors.New("gateway.yaml:7: Gateway default/gw: bad") },
			want:    "gateway.yaml:7: Gateway default/gw: bad",
		},
		"compile error": {
			breakIt: func(h *harness) { h.compErr = errors.New("vs.yaml:3: VirtualService default/vs: no such host") },
			want:    `group "app=gateway": vs.yaml:3: VirtualService default/vs: no such host`,
		},
		"dangling route reference": {
			breakIt: func(h *harness) { h.edit = func(r *translate.Resources) { r.Routes = nil } },
			want:    "inconsistent resources",
		},
		"missing secret": {
			breakIt: func(h *harness) { h.edit = func(r *translate.Resources) { r.Secrets = r.Secrets[1:] } },
			want:    "is referenced but not defined",
		},
	}
	for proto, delta := range protocols {
		for name, tc := range breaks {
			t.Run(proto+"/"+name, func(t *testing.T) {
				h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
				h.start(h.options())
				e := h.envoy(envoytest.Options{Delta: delta})
				good, err := e.WaitComplete(timeout)
				if err != nil {
					t.Fatal(err)
				}
				mark := len(e.Responses())
				h.set(func(h *harness) {
					tc.breakIt(h)
					h.spec.Prefixes = []string{"/", "/never"}
				})
				if err := h.reload(); err == nil {
					t.Fatal("Reload succeeded with a broken configuration")
				}
				st := h.reloadStatus()
				if st.OK || !slices.ContainsFunc(st.Errors, func(e string) bool { return strings.Contains(e, tc.want) }) {
					t.Errorf("/debug/reload: ok %v errors %q, want not ok and an error containing %q", st.OK, st.Errors, tc.want)
				}
				if line, err := h.metric("trustgate_reload_errors_total"); err != nil || line != "trustgate_reload_errors_total 1" {
					t.Errorf("reload errors metric = %q (%v), want 1", line, err)
				}
				if line, err := h.metric("trustgate_config_last_reload_success"); err != nil || line != "trustgate_config_last_reload_success 0" {
					t.Errorf("last reload success metric = %q (%v), want 0", line, err)
				}
				// A proxy of the same group connecting now gets the last
				// good configuration.
				late := h.envoy(envoytest.Options{Delta: delta, NodeID: "late"})
				v, err := late.WaitComplete(timeout)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(good.Routes, v.Routes, protocmp.Transform()); diff != "" {
					t.Errorf("late proxy routes differ from the last good (-good +late):\n%s", diff)
				}
				// Fixing the files recovers; until then nothing reached the
				// first proxy (responses arrive in order).
				h.set(func(h *harness) {
					h.loadErr, h.compErr, h.edit = nil, nil, nil
					h.spec.Prefixes = []string{"/", "/fixed"}
				})
				h.mustReload()
				if _, err := e.Wait(timeout, "the fixed configuration", func(v envoytest.View) bool {
					return prefixes(v.Routes[fixture.RouteName]) == "/,/fixed"
				}); err != nil {
					t.Fatal(err)
				}
				for _, r := range e.Responses()[mark:] {
					for _, m := range r.Resources {
						if rc, ok := m.(*routev3.RouteConfiguration); ok && prefixes(rc) != "/,/fixed" {
							t.Errorf("the broken configuration reached the proxy: routes %s", prefixes(rc))
						}
					}
					if len(r.Removed) > 0 {
						t.Errorf("the broken configuration removed %s %v", r.TypeURL, r.Removed)
					}
				}
				if line, err := h.metric("trustgate_config_last_reload_success"); err != nil || line != "trustgate_config_last_reload_success 1" {
					t.Errorf("last reload success metric = %q (%v), want 1", line, err)
				}
			})
		}
	}
}

// prefixes lists a route configuration's route prefixes, comma-separated.
func prefixes(rc *routev3.RouteConfiguration) string {
	var out []string
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			out = append(out, r.GetMatch().GetPrefix())
		}
	}
	return strings.Join(out, ",")
}

func TestNACKIsRecorded(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			reject := func(r envoytest.Response) error {
				for _, m := range r.Resources {
					rc, ok := m.(*routev3.RouteConfiguration)
					if ok && len(rc.GetVirtualHosts()[0].GetRoutes()) > 1 {
						return errors.New("route: invalid regex in /bad")
					}
				}
				return nil
			}
			e := h.envoy(envoytest.Options{Delta: delta, NACK: reject})
			good, err := e.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			h.set(func(h *harness) { h.spec.Prefixes = []string{"/", "/bad"} })
			h.mustReload()
			if _, err := e.Wait(timeout, "a NACK", func(v envoytest.View) bool {
				rs := e.Responses()
				return rs[len(rs)-1].NACK != ""
			}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the NACK on /debug/proxies", func() error {
				_, body := h.admin("/debug/proxies")
				if !strings.Contains(body, `"message": "route: invalid regex in /bad"`) {
					return errors.New(body)
				}
				return nil
			})
			// Once a later push arrived, the rejected version was not
			// bounced back: one NACK, no loop.
			h.barrier(e, 100)
			if line, err := h.metric(`trustgate_xds_nacks_total{type="route"}`); err != nil || line != `trustgate_xds_nacks_total{type="route"} 1` {
				t.Errorf("NACK metric = %q (%v), want 1", line, err)
			}
			// The proxy kept its configuration.
			if diff := cmp.Diff(good.Routes, e.View().Routes, protocmp.Transform()); diff != "" {
				t.Errorf("routes changed despite the NACK (-before +after):\n%s", diff)
			}
		})
	}
}
