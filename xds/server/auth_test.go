package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/translate"
	"github.com/trustgate/trustgate/xds/xdstls/xdstlstest"
)

// testPolicy lets gw-1 by its CN, and every proxy by its URI SAN, claim
// app=gateway only.
const testPolicy = `
- identity: gw-1
  labels: {app: gateway}
- identity: spiffe://trustgate.test/proxy/*
  labels: {app: gateway}
`

var gateway = map[string]string{"app": "gateway"}

// counter returns a counter sample's value, 0 when it has none yet.
func (h *harness) counter(sample string) float64 {
	h.t.Helper()
	line, err := h.metric(sample)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(line, sample+" "), 64)
	if err != nil {
		h.t.Fatalf("%s: %v", line, err)
	}
	return v
}

func TestStreamAuthorization(t *testing.T) {
	m := newMTLS(t, "gw-1", "gw-2")
	servers := map[string]*harness{}
	for name, policy := range map[string]string{"policy": testPolicy, "identity only": ""} {
		h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
		h.start(m.options(h.options(), policy))
		servers[name] = h
	}
	type step struct {
		node    *corev3.Node // nil: none
		typeURL string
		names   []string
	}
	first := func(n *corev3.Node) []step { return []step{{node: n, typeURL: envoytest.ClusterType}} }
	tests := map[string]struct {
		server     string
		cert       string
		steps      []step
		wantCode   codes.Code // codes.OK: every step is answered
		wantReason string
	}{
		"node id is the URI SAN": {server: "policy", cert: "gw-2", steps: first(node(spiffeID("gw-2"), gateway))},
		"node id is the CN":      {server: "policy", cert: "gw-1", steps: first(node("gw-1", gateway))},
		"another proxy's id": {
			server: "policy", cert: "gw-1", steps: first(node("gw-2", gateway)),
			wantCode: codes.PermissionDenied, wantReason: "node_id",
		},
		"another proxy's URI": {
			server: "identity only", cert: "gw-1", steps: first(node(spiffeID("gw-2"), gateway)),
			wantCode: codes.PermissionDenied, wantReason: "node_id",
		},
		"labels the policy does not allow": {
			server: "policy", cert: "gw-1", steps: first(node("gw-1", map[string]string{"app": "other"})),
			wantCode: codes.PermissionDenied, wantReason: "labels",
		},
		"a label more than the policy allows": {
			server: "policy", cert: "gw-2", steps: first(node(spiffeID("gw-2"), map[string]string{"app": "gateway", "x": "y"})),
			wantCode: codes.PermissionDenied, wantReason: "labels",
		},
		"identity with no policy entry": {
			server: "policy", cert: "gw-2", steps: first(node("gw-2", gateway)),
			wantCode: codes.PermissionDenied, wantReason: "labels",
		},
		"any labels without a policy": {server: "identity only", cert: "gw-1", steps: first(node("gw-1", map[string]string{"app": "other"}))},
		"no node": {
			server: "identity only", cert: "gw-1", steps: first(nil),
			wantCode: codes.PermissionDenied, wantReason: "no_node",
		},
		"empty node id": {
			server: "identity only", cert: "gw-1", steps: first(node("", gateway)),
			wantCode: codes.PermissionDenied, wantReason: "node_id",
		},
		"node changes mid-stream": {
			server: "identity only", cert: "gw-1",
			steps: []step{
				{node: node("gw-1", gateway), typeURL: envoytest.ClusterType},
				{node: node("gw-2", gateway), typeURL: envoytest.ListenerType},
			},
			wantCode: codes.PermissionDenied, wantReason: "node_changed",
		},
		"labels change mid-stream": {
			server: "identity only", cert: "gw-1",
			steps: []step{
				{node: node("gw-1", gateway), typeURL: envoytest.ClusterType},
				{node: node("gw-1", map[string]string{"app": "other"}), typeURL: envoytest.ListenerType},
			},
			wantCode: codes.PermissionDenied, wantReason: "node_changed",
		},
		"the same node again, then none": {
			server: "policy", cert: "gw-1",
			steps: []step{
				{node: node("gw-1", gateway), typeURL: envoytest.ClusterType},
				{node: node("gw-1", gateway), typeURL: envoytest.ListenerType},
				{typeURL: envoytest.RouteType, names: []string{fixture.RouteName}},
			},
		},
	}
	for _, delta := range []bool{false, true} {
		for name, tc := range tests {
			t.Run(fmt.Sprintf("delta=%v/%s", delta, name), func(t *testing.T) {
				h := servers[tc.server]
				sample := fmt.Sprintf("trustgate_xds_denied_streams_total{reason=%q}", tc.wantReason)
				before := h.counter(sample)
				s := openADS(t, h.addr, delta, m.dial(tc.cert))
				for i, st := range tc.steps {
					if err := s.send(st.node, st.typeURL, st.names...); err != nil {
						t.Fatalf("step %d: send: %v", i, err)
					}
					if tc.wantCode != codes.OK && i == len(tc.steps)-1 {
						break
					}
					typeURL, _, err := s.recv()
					if err != nil || typeURL != st.typeURL {
						t.Fatalf("step %d: got %s, %v; want a %s response", i, typeURL, err, st.typeURL)
					}
				}
				if tc.wantCode == codes.OK {
					return
				}
				if got := s.ended(); got.Code() != tc.wantCode {
					t.Fatalf("stream ended with %v, want %v", got, tc.wantCode)
				}
				if after := h.counter(sample); after != before+1 {
					t.Errorf("%s went from %v to %v, want one more", sample, before, after)
				}
			})
		}
	}
	// A refused node's group is never compiled: labels are not trusted
	// before they are authorized.
	if n := servers["policy"].compiles.get("app=other"); n != 0 {
		t.Errorf("the refused group app=other was compiled %d times", n)
	}
}

func TestHandshakeRequired(t *testing.T) {
	m := newMTLS(t, "gw-1")
	other, err := xdstlstest.NewPKI(filepath.Join(t.TempDir(), "other"), "another CA")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := other.Client(certs.IssueOptions{Name: "gw-1", CommonName: "gw-1"})
	if err != nil {
		t.Fatal(err)
	}
	stranger.CA = m.clients["gw-1"].CA // trusts trustgate; its own certificate is from another CA
	noCert := m.clients["gw-1"]
	noCert.Cert, noCert.Key = "", ""
	dial := func(c xdstlstest.Client) grpc.DialOption {
		d, err := c.DialOption(serverName)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	h.start(m.options(h.options(), ""))
	tests := map[string]grpc.DialOption{
		"no client certificate":              dial(noCert),
		"client certificate from another CA": dial(stranger),
		"plaintext":                          grpc.WithTransportCredentials(insecure.NewCredentials()),
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) {
			if got := refused(t, h.addr, d); got != codes.Unavailable {
				t.Errorf("ended with %v, want Unavailable (no connection)", got)
			}
		})
	}
	if ps := h.proxies(); len(ps) != 0 {
		t.Errorf("proxies connected without a valid certificate: %+v", ps)
	}
}

func TestAuthorizedProxyGetsItsConfiguration(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			m := newMTLS(t, "gw-1")
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true})
			h.start(m.options(h.options(), testPolicy))
			want, err := fixture.Resources(h.spec)
			if err != nil {
				t.Fatal(err)
			}
			e := m.envoy(h, "gw-1", envoytest.Options{Delta: delta, Labels: gateway})
			v, err := e.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			assertView(t, want, v) // secrets, with their keys, included
		})
	}
}

// byApp serves group app=other a cluster with a client certificate, whose
// secret no other group is served.
type byApp struct{ base, other *translate.Resources }

func (c byApp) Compile(l map[string]string) (*translate.Resources, error) {
	if l["app"] == "other" {
		return fixture.Clone(c.other), nil
	}
	return fixture.Clone(c.base), nil
}

func TestOtherGroupsSecretsAreNotServed(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			m := newMTLS(t, "gw-1", "gw-2")
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			base, err := fixture.Resources(h.spec)
			if err != nil {
				t.Fatal(err)
			}
			spec := h.spec
			spec.UpstreamClientCert = true
			other, err := fixture.Resources(spec)
			if err != nil {
				t.Fatal(err)
			}
			opts := h.options()
			opts.Loader = func() (server.Config, error) { return byApp{base: base, other: other}, nil }
			h.start(m.options(opts, "")) // no policy: gw-2 may claim app=other

			// The secret exists: the group that uses it gets it.
			owner := openADS(t, h.addr, delta, m.dial("gw-2"))
			if err := owner.send(node("gw-2", map[string]string{"app": "other"}), envoytest.SecretType, fixture.ClientSecret); err != nil {
				t.Fatal(err)
			}
			if _, names, err := owner.recv(); err != nil || !cmp.Equal(names, []string{fixture.ClientSecret}) {
				t.Fatalf("the owner got %v (%v), want its secret", names, err)
			}

			sample := `trustgate_xds_unknown_resource_requests_total{type="secret"}`
			s := openADS(t, h.addr, delta, m.dial("gw-1"))
			n := node("gw-1", gateway)
			if err := s.send(n, envoytest.SecretType, fixture.CertSecret, fixture.ClientSecret, "default/nope"); err != nil {
				t.Fatal(err)
			}
			if _, names, err := s.recv(); err != nil || !cmp.Equal(names, []string{fixture.CertSecret}) {
				t.Fatalf("got %v (%v), want only its own secret %s", names, err, fixture.CertSecret)
			}
			eventually(t, "two unknown secrets counted", func() error {
				if got := h.counter(sample); got != 2 {
					return fmt.Errorf("%s = %v", sample, got)
				}
				return nil
			})
			// Asking again (as a SotW ACK does) counts nothing more; the
			// stream keeps working: a new route is still pushed.
			if !delta {
				if err := s.send(nil, envoytest.SecretType, fixture.CertSecret, fixture.ClientSecret, "default/nope"); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.send(nil, envoytest.RouteType, fixture.RouteName); err != nil {
				t.Fatal(err)
			}
			if typeURL, names, err := s.recv(); err != nil || typeURL != envoytest.RouteType || !cmp.Equal(names, []string{fixture.RouteName}) {
				t.Fatalf("got %s %v (%v), want the route", typeURL, names, err)
			}
			if got := h.counter(sample); got != 2 {
				t.Errorf("%s = %v after asking again, want 2", sample, got)
			}
		})
	}
}

func TestClientCARotation(t *testing.T) {
	m := newMTLS(t, "gw-1")
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	h.start(m.options(h.options(), ""))
	e := m.envoy(h, "gw-1", envoytest.Options{Labels: gateway})
	if _, err := e.WaitComplete(timeout); err != nil {
		t.Fatal(err)
	}

	// Trust another CA instead.
	next, err := xdstlstest.NewPKI(filepath.Join(t.TempDir(), "next"), "next CA")
	if err != nil {
		t.Fatal(err)
	}
	newcomer, err := next.Client(certs.IssueOptions{Name: "gw-2", CommonName: "gw-2"})
	if err != nil {
		t.Fatal(err)
	}
	newcomer.CA = m.clients["gw-1"].CA
	m.clients["gw-2"] = newcomer
	ca, err := os.ReadFile(next.ClientCA())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.files.ClientCA, ca, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second) // a new modification time, however coarse the clock
	if err := os.Chtimes(m.files.ClientCA, later, later); err != nil {
		t.Fatal(err)
	}

	// New connections use the new CA...
	if got := refused(t, h.addr, m.dial("gw-1")); got != codes.Unavailable {
		t.Errorf("a new connection with the old CA's certificate ended with %v, want Unavailable", got)
	}
	welcome := m.envoy(h, "gw-2", envoytest.Options{Labels: gateway})
	if _, err := welcome.WaitComplete(timeout); err != nil {
		t.Fatalf("a certificate of the new CA: %v", err)
	}
	// ...while an established one keeps its stream (like Envoy, trustgate
	// does not re-verify connections; see the README).
	h.set(func(h *harness) { h.spec.Prefixes = []string{"/", "/after"} })
	h.mustReload()
	if _, err := e.Wait(timeout, "the route pushed after the CA changed", func(v envoytest.View) bool {
		return len(v.Routes[fixture.RouteName].GetVirtualHosts()[0].GetRoutes()) == 2
	}); err != nil {
		t.Fatal(err)
	}
}
