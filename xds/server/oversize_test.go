package server_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/translate"
)

// stillServed checks that a proxy kept its stream and gets the next change.
func stillServed(t *testing.T, h *harness, e *envoytest.Client, prefix string) {
	t.Helper()
	if err := e.Err(); err != nil {
		t.Fatalf("the proxy's stream ended: %v", err)
	}
	h.set(func(h *harness) { h.spec.Prefixes = []string{"/", prefix}; h.edit = nil })
	h.mustReload()
	if _, err := e.Wait(timeout, "the route "+prefix, func(v envoytest.View) bool {
		routes := v.Routes[fixture.RouteName].GetVirtualHosts()[0].GetRoutes()
		return len(routes) == 2 && routes[1].GetMatch().GetPrefix() == prefix
	}); err != nil {
		t.Fatal(err)
	}
}

// TestOversizeSnapshotRefused: whatever Config compiles them, resources that
// do not fit in one response are refused at reload, naming the group and the
// resource; the connected proxies keep the last good configuration and
// their streams (gRPC would have ended them with ResourceExhausted).
func TestOversizeSnapshotRefused(t *testing.T) {
	for proto, delta := range protocols {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			e := h.envoy(envoytest.Options{Delta: delta})
			before, err := e.WaitComplete(timeout)
			if err != nil {
				t.Fatal(err)
			}
			h.set(func(h *harness) {
				h.edit = func(r *translate.Resources) {
					for _, s := range r.Secrets {
						if vc := s.GetValidationContext(); vc != nil {
							vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{
								InlineBytes: bytes.Repeat(h.pki.CAPEM, 70_000_000/len(h.pki.CAPEM)+1),
							}}
						}
					}
				}
			})
			err = h.reload()
			want := fmt.Sprintf(`group "app=gateway": secret %q is 70.0 MB: one resource must fit in one response`, fixture.CASecret)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("reload: %v, want an error containing %q", err, want)
			}
			if st := h.reloadStatus(); st.OK || len(st.Errors) == 0 || !strings.Contains(st.Errors[0], want) {
				t.Errorf("/debug/reload: ok=%v errors=%q", st.OK, st.Errors)
			}
			if got := e.View().Versions; fmt.Sprint(got) != fmt.Sprint(before.Versions) {
				t.Errorf("versions changed from %v to %v", before.Versions, got)
			}
			stillServed(t, h, e, "/after")
		})
	}
}

// TestOversizeFilesRefused serves real files through the pipeline, as
// `trustgate serve` does: five client CA bundles grow to 14 MB each, within
// the 16 MiB a file may have but together over one SDS response. The
// reload is refused naming the group and the bundles' directories, the
// connected proxy keeps its stream and configuration, and the bundles
// shrinking back is pushed.
func TestOversizeFilesRefused(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "server", Hosts: []string{"*.example.com"}}); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(secrets, "client-ca", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	bundles := func(copies int) {
		for i := range 5 {
			d := filepath.Join(secrets, fmt.Sprint("ca-", i))
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "ca.crt"), bytes.Repeat(ca, copies), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	bundles(1)
	var y strings.Builder
	y.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: edge}\nspec:\n  selector: {app: edge}\n  servers:\n")
	for i := range 5 {
		fmt.Fprintf(&y, "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: server, caCertCredentialName: ca-%d}\n", i, i)
	}
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secrets}}
	h := newHarness(t, fixture.Spec{})
	so := h.options()
	so.Loader = func() (server.Config, error) { return compile.Load(opts, compile.ForServe()) }
	h.start(so)
	h.mustReload()
	e := h.envoy(envoytest.Options{Labels: map[string]string{"app": "edge"}})
	before, err := e.WaitComplete(timeout)
	if err != nil {
		t.Fatal(err)
	}

	bundles(14_000_000/len(ca) + 1)
	err = h.reload()
	for _, want := range []string{
		`proxy group "app=edge": the 6 secret resources take 70.0 MB in one response, over the 64 MiB the server sends`,
		"from " + filepath.Join(secrets, "ca-0"),
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("reload: %v\nwant an error containing %q", err, want)
		}
	}
	if err := e.Err(); err != nil {
		t.Fatalf("the proxy's stream ended: %v", err)
	}
	if got := e.View().Versions; fmt.Sprint(got) != fmt.Sprint(before.Versions) {
		t.Errorf("versions changed from %v to %v", before.Versions, got)
	}

	bundles(2)
	h.mustReload()
	if _, err := e.Wait(timeout, "bundles of two certificates", func(v envoytest.View) bool {
		s := v.Secrets["kubernetes://secrets/ca-0-cacert"]
		return s != nil && len(s.GetValidationContext().GetTrustedCa().GetInlineBytes()) == 2*len(ca)
	}); err != nil {
		t.Fatal(err)
	}
}

// TestFailedSendIsLogged: a send gRPC refuses anyway (here the caller's
// MaxSendMsgSize, 8 KiB, is below a route configuration of 200 routes and above the rest) ends
// the stream, and the log says which response failed and why.
func TestFailedSendIsLogged(t *testing.T) {
	prefixes := make([]string, 200)
	for i := range prefixes {
		prefixes[i] = fmt.Sprintf("/p%d", i)
	}
	h := newHarness(t, fixture.Spec{Prefixes: prefixes})
	var logs lockedBuffer
	opts := h.options()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	opts.GRPCServerOptions = []grpc.ServerOption{grpc.MaxSendMsgSize(8 << 10)}
	h.start(opts)
	e := h.envoy(envoytest.Options{})
	eventually(t, "the failed send logged", func() error {
		if lines := logs.lines("sending an xDS response failed"); len(lines) == 0 {
			return fmt.Errorf("not logged; stream: %v", e.Err())
		}
		return nil
	})
	line := logs.lines("sending an xDS response failed")[0]
	for _, want := range []string{"type=route", "node=gw-1", "larger than max", "bytes="} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %q", line, want)
		}
	}
	eventually(t, "the stream's end logged", func() error {
		if lines := logs.lines("xDS stream ended with an error"); len(lines) == 0 {
			return fmt.Errorf("not logged; stream: %v", e.Err())
		}
		return nil
	})
	if got := h.counter(`trustgate_xds_send_errors_total{type="route"}`); got != 1 {
		t.Errorf("send errors counted: %v, want 1", got)
	}
}
