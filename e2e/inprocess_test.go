package e2e_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
)

// inprocessGateway is the configuration the in-process test serves; ROUTES
// is replaced by the test's http routes.
const inprocessGateway = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [gw.example.com]
    tls: {mode: MUTUAL, credentialName: gw, caCertCredentialName: client-ca}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: edge}
spec:
  hosts: [gw.example.com]
  gateways: [gw]
  http:
ROUTES`

// TestRealConfigOverADS runs the whole chain without Envoy: YAML and a
// secrets directory on disk, the real pipeline, the ADS server with its file
// watcher, and a fake Envoy (SotW and delta). It checks what operators rely
// on: a CRL or certificate change on disk reaches the proxy as Secrets only,
// so Envoy drains nothing; a broken edit keeps the last good configuration;
// the next good edit goes through.
func TestRealConfigOverADS(t *testing.T) {
	for name, delta := range map[string]bool{"sotw": false, "delta": true} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfgDir, pki := filepath.Join(dir, "config"), filepath.Join(dir, "pki")
			mustDo(t, os.Mkdir(cfgDir, 0o755))
			mustDo(t, certs.Init(pki, certs.InitOptions{Intermediate: true, CRL: true}))
			for _, c := range []struct {
				kind certs.Kind
				opts certs.IssueOptions
			}{
				{certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"gw.example.com"}}},
				{certs.KindClient, certs.IssueOptions{Name: "alice", CommonName: "alice"}},
				{certs.KindClient, certs.IssueOptions{Name: "bob", CommonName: "bob"}},
			} {
				_, err := certs.Issue(pki, c.kind, c.opts)
				mustDo(t, err)
			}
			cfgFile := filepath.Join(cfgDir, "gateway.yaml")
			writeConfig(t, cfgFile, "  - route: [{destination: {host: app.internal, port: {number: 8080}}}]\n")

			admin, addr := startServer(t, model.LoadOptions{Paths: []string{cfgDir}, SecretsDirs: []string{pki}})
			// The Gateway's group is compiled at load, before any proxy
			// connects: its certificates' expiry is on /metrics already.
			rec := httptest.NewRecorder()
			admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			for _, m := range []string{`trustgate_certificate_expiry_timestamp_seconds{secret="kubernetes://secrets/gw"}`, `trustgate_crl_next_update_timestamp_seconds{`} {
				if !strings.Contains(rec.Body.String(), m) {
					t.Errorf("/metrics before any proxy connected lacks %s", m)
				}
			}
			e, err := envoytest.Dial(context.Background(), addr, envoytest.Options{
				NodeID: "gw-1", Labels: map[string]string{"istio": "ingressgateway"}, Delta: delta,
			})
			mustDo(t, err)
			t.Cleanup(func() { _ = e.Close() })
			before, err := e.WaitComplete(10 * time.Second)
			mustDo(t, err)
			caSecret, certSecret := "kubernetes://secrets/client-ca-cacert", "kubernetes://secrets/gw"
			if before.Secrets[caSecret] == nil || before.Secrets[certSecret] == nil {
				t.Fatalf("secrets %v, want %s and %s", keys(before.Secrets), caSecret, certSecret)
			}

			// Revoke bob and publish CRLs; then rotate the server certificate.
			// The second change is also the barrier for the first: the
			// stream's responses are ordered, so once it has arrived any
			// listener, route or cluster push caused by the CRL would have too.
			mark := len(e.Responses())
			crl := func(v envoytest.View) string {
				return string(v.Secrets[caSecret].GetValidationContext().GetCrl().GetInlineBytes())
			}
			_, err = certs.Revoke(pki, "bob", time.Now())
			mustDo(t, err)
			mustDo(t, certs.WriteCRLs(pki, certs.CRLOptions{}))
			_, err = e.Wait(10*time.Second, "the new CRL", func(v envoytest.View) bool { return crl(v) != crl(before) })
			mustDo(t, err)
			chain := func(v envoytest.View) string {
				return string(v.Secrets[certSecret].GetTlsCertificate().GetCertificateChain().GetInlineBytes())
			}
			_, err = certs.Issue(pki, certs.KindServer, certs.IssueOptions{Name: "gw", Hosts: []string{"gw.example.com"}, Replace: true})
			mustDo(t, err)
			after, err := e.Wait(10*time.Second, "the rotated certificate", func(v envoytest.View) bool { return chain(v) != chain(before) })
			mustDo(t, err)
			for _, r := range e.Responses()[mark:] {
				if r.TypeURL != envoytest.SecretType {
					t.Errorf("a CRL or certificate change sent %s %v", r.TypeURL, r.Names)
				}
			}
			if diff := cmp.Diff(before.Listeners, after.Listeners, protocmp.Transform()); diff != "" {
				t.Errorf("listeners changed on a secret change (-before +after):\n%s", diff)
			}

			// A broken edit: the reload fails, nothing is pushed.
			reloads := reloadStatus(t, admin).Reloads
			mark = len(e.Responses())
			writeConfig(t, cfgFile, "  - route: [{destination: {host: app.internal, port: {number: 8080}}}]\n    mirrorPercent: 5\n")
			st := waitReload(t, admin, reloads, func(st server.ReloadStatus) bool { return !st.OK })
			if !strings.Contains(strings.Join(st.Errors, "\n"), "gateway.yaml:19: VirtualService edge/app: spec.http[0].mirrorPercent: field \"mirrorPercent\" is not supported by trustgate") {
				t.Errorf("reload errors %q should name the file, line, object and field", st.Errors)
			}
			if got := e.Responses()[mark:]; len(got) != 0 {
				t.Errorf("a broken edit pushed %d responses", len(got))
			}

			// The next good edit goes through.
			writeConfig(t, cfgFile, "  - match: [{uri: {prefix: /v2}}]\n    route: [{destination: {host: app-v2.internal, port: {number: 8080}}}]\n"+
				"  - route: [{destination: {host: app.internal, port: {number: 8080}}}]\n")
			_, err = e.Wait(10*time.Second, "the /v2 route", func(v envoytest.View) bool {
				for _, vh := range v.Routes["https.443.edge.gw.0"].GetVirtualHosts() {
					for _, r := range vh.GetRoutes() {
						if r.GetMatch().GetPrefix() == "/v2" {
							return true
						}
					}
				}
				return false
			})
			mustDo(t, err)
		})
	}
}

func writeConfig(t *testing.T, path, routes string) {
	t.Helper()
	// Write then rename, as editors and Kubernetes do, so the watcher never
	// reads half a file.
	tmp := path + ".tmp"
	mustDo(t, os.WriteFile(tmp, []byte(strings.Replace(inprocessGateway, "ROUTES", routes, 1)), 0o644))
	mustDo(t, os.Rename(tmp, path))
}

func startServer(t *testing.T, opts model.LoadOptions) (admin http.Handler, addr string) {
	t.Helper()
	admin, addr = serveFiles(t, file.Options{Input: opts, Debounce: 20 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	for { // ready once the first configuration is loaded
		rec := httptest.NewRecorder()
		admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code == http.StatusOK {
			return admin, addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 10s: %d %s", rec.Code, rec.Body.String())
		}
		time.Sleep(10 * time.Millisecond) // polling an endpoint, bounded by the deadline
	}
}

// serveFiles runs an xDS server on a file source over loopback until the
// test ends, and returns its admin handler and its xDS address.
func serveFiles(t *testing.T, opts file.Options) (admin http.Handler, addr string) {
	t.Helper()
	src, err := file.New(opts)
	mustDo(t, err)
	srv, err := server.New(server.Options{
		Source:     src,
		AdminHosts: []string{"example.com"}, // httptest.NewRequest's Host
	})
	mustDo(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	mustDo(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return srv.AdminHandler(), lis.Addr().String()
}

func reloadStatus(t *testing.T, admin http.Handler) server.ReloadStatus {
	t.Helper()
	rec := httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/reload", nil))
	var st server.ReloadStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("/debug/reload: %v: %s", err, rec.Body.String())
	}
	return st
}

// waitReload waits for a reload after the first `since` (Reloads counts every
// reload, failed or not) whose status satisfies ok.
func waitReload(t *testing.T, admin http.Handler, since int, ok func(server.ReloadStatus) bool) server.ReloadStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := reloadStatus(t, admin)
		if st.Reloads > since && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching reload within 10s; last status %+v", st)
		}
		time.Sleep(10 * time.Millisecond) // polling an endpoint, bounded by the deadline
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
