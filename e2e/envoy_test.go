package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// host is the gateway's only host; clients send it as SNI and Host.
const host = "e2e.example.com"

// labels select the test's Envoy, as `trustgate bootstrap --node-labels` sets
// them and the Gateway's selector reads them.
const labels = "e2e=envoy-test"

// configTemplate is the test's configuration: a MUTUAL server on a free
// loopback port in front of the in-test echo backend, an allow-list by
// common name, and identity headers; and a second, catch-all ("*") MUTUAL
// server on another port whose connections and streams are bounded to 2 s
// and where an SNI rule denies one name. Ports (main, bounded, backend) are
// filled in with Sprintf.
const configTemplate = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: e2e, namespace: e2e}
spec:
  selector: {e2e: envoy-test}
  servers:
  - port: {number: %d, name: https, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: [e2e.example.com]
    tls: {mode: MUTUAL, credentialName: gateway-cert}
  - name: bounded
    port: {number: %d, name: https-bounded, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: ["*"]
    tls: {mode: MUTUAL, credentialName: gateway-cert}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: e2e-bounded, namespace: e2e}
spec:
  targetRef: {group: networking.istio.io, kind: Gateway, name: e2e, sectionName: bounded}
  maxConnectionDuration: 2s
  authorization:
    allow:
    - name: alice
      commonName: [{exact: alice}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: denied-sni, namespace: e2e}
spec:
  targetRefs:
  - {group: networking.istio.io, kind: Gateway, name: e2e}
  action: DENY
  rules:
  - when:
    - key: connection.sni
      values: [denied.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: e2e, namespace: e2e}
spec:
  hosts: [e2e.example.com]
  gateways: [e2e]
  http:
  - route:
    - destination: {host: 127.0.0.1, port: {number: %d}}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: e2e, namespace: e2e}
spec:
  targetRef: {group: networking.istio.io, kind: Gateway, name: e2e}
  authorization:
    allow:
    - name: staff
      commonName: [{exact: alice}, {exact: bob}]
  identityHeaders:
    subject: x-client-subject
    uriSan: x-client-uri-san
`

// gateway is a running trustgate + Envoy pair and its PKI.
type gateway struct {
	pki         string
	port        int // Envoy's HTTPS listener
	boundedPort int // the catch-all server with maxConnectionDuration 2s
	adminPort   int // Envoy's admin
}

// url is the gateway's URL for path; requests dial 127.0.0.1 (see dial).
func (g *gateway) url(path string) string {
	return "https://" + host + ":" + strconv.Itoa(g.port) + path
}

// boundedURL is the bounded server's URL for path.
func (g *gateway) boundedURL(path string) string {
	return "https://" + host + ":" + strconv.Itoa(g.boundedPort) + path
}

// client returns an HTTP client presenting the certificate of name ("" for
// none); it dials Envoy whatever the URL's host, as curl --resolve does.
func (g *gateway) client(t *testing.T, name string) *http.Client {
	t.Helper()
	return httpsClient(clientTLS(t, g.pki, host, name), "127.0.0.1:"+strconv.Itoa(g.port))
}

// echoed is what the echo backend saw: the request headers.
type echoed map[string][]string

// get requests path and returns the status and, for a 200, the headers the
// backend received.
func get(c *http.Client, url string, header http.Header) (status int, seen echoed, err error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer closeBody(resp, &err)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil
	}
	if err := json.Unmarshal(body, &seen); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("backend answer %q: %v", body, err)
	}
	return resp.StatusCode, seen, nil
}

// startGateway makes a PKI, starts the echo backend, `trustgate serve` and
// Envoy (SotW or delta ADS) on configTemplate, and waits until a valid
// client gets through.
func startGateway(t *testing.T, delta bool) *gateway {
	t.Helper()
	return startGatewayWith(t, delta, func(g *gateway, backendPort int) string {
		return fmt.Sprintf(configTemplate, g.port, g.boundedPort, backendPort)
	})
}

// startGatewayWith is startGateway with the configuration config returns
// for the gateway's ports and the backend's; alice must get a 200 on "/"
// of host at g.port.
func startGatewayWith(t *testing.T, delta bool, config func(g *gateway, backendPort int) string) *gateway {
	t.Helper()
	envoy := envoyBinary(t) // skips without Envoy, before any work
	tg := trustgateBinary(t)
	dir := t.TempDir()
	g := &gateway{pki: filepath.Join(dir, "pki"), port: freePort(t), boundedPort: freePort(t), adminPort: freePort(t)}
	makePKI(t, g.pki)

	backend := echoBackend(t)
	backendPort := backend.Listener.Addr().(*net.TCPAddr).Port
	configDir := filepath.Join(dir, "config")
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(configDir, "gateway.yaml"), []byte(config(g, backendPort)), 0o644); err != nil {
		t.Fatal(err)
	}

	xdsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	tgAdmin := "127.0.0.1:" + strconv.Itoa(freePort(t))
	start(t, "trustgate", tg, "serve", "--config", configDir, "--secrets-dir", g.pki,
		"--xds-addr", xdsAddr, "--admin-addr", tgAdmin, "--log-level", "debug")
	waitFor(t, "trustgate /readyz", func() error { return httpOK("http://" + tgAdmin + "/readyz") })

	args := []string{"bootstrap", "--node-id", "e2e", "--node-labels", labels, "--xds-addr", xdsAddr, "--admin-port", strconv.Itoa(g.adminPort)}
	if delta {
		args = append(args, "--delta")
	}
	bootstrap, err := exec.Command(tg, args...).Output()
	if err != nil {
		t.Fatalf("trustgate bootstrap: %v", err)
	}
	bootstrapPath := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(bootstrapPath, bootstrap, 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "envoy", envoy, "-c", bootstrapPath, "--disable-hot-restart", "--log-level", "info")

	alice := g.client(t, "alice")
	waitFor(t, "alice gets 200 through Envoy", func() error {
		code, _, err := get(alice, g.url("/"), nil)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("HTTP %d", code)
		}
		return err
	})
	return g
}

// makePKI is a root and an intermediate CA, the gateway's certificate, and
// clients alice and bob (allowed) and mallory (signed, not allowed), and two
// with DNS SANs: admin (admin.e2e.example.com) and wild (*.e2e.example.com).
func makePKI(t *testing.T, dir string) {
	t.Helper()
	if err := certs.Init(dir, certs.InitOptions{Intermediate: true, CRL: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: "gateway-cert", Hosts: []string{host}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob", "mallory"} {
		opts := certs.IssueOptions{Name: name, CommonName: name, Organization: "E2E", URIs: []string{"spiffe://e2e.example.com/" + name}}
		if _, err := certs.Issue(dir, certs.KindClient, opts); err != nil {
			t.Fatal(err)
		}
	}
	for name, dns := range map[string]string{"admin": "admin." + host, "wild": "*." + host} {
		opts := certs.IssueOptions{Name: name, CommonName: name, Organization: "E2E", DNSNames: []string{dns}}
		if _, err := certs.Issue(dir, certs.KindClient, opts); err != nil {
			t.Fatal(err)
		}
	}
}

// httpOK is nil when url answers 200.
func httpOK(url string) (err error) {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer closeBody(resp, &err)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// compileForEnvoy loads a configuration file with a secrets directory, as
// the tests without Envoy do, and compiles the proxy group of the test
// Envoy's labels (compile.Config.Compile is Build's Resources; the Output
// is returned so that this package need not name translate's types).
func compileForEnvoy(t *testing.T, path, secretsDir string) *compile.Output {
	t.Helper()
	cfg, err := compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secretsDir}})
	if err != nil {
		t.Fatalf("load:\n%v", err)
	}
	out, err := cfg.Build(compile.Node{Labels: map[string]string{"e2e": "envoy-test"}})
	if err != nil {
		t.Fatalf("compile:\n%v", err)
	}
	return out
}

// TestConfigCompiles runs without Envoy: the configuration TestEnvoy
// serves must load and compile, so that a broken template shows up in every
// `go test ./...`, not only where an Envoy is installed.
func TestConfigCompiles(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	makePKI(t, pki)
	configPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(configPath, []byte(fmt.Sprintf(configTemplate, 8443, 9443, 8080)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := compileForEnvoy(t, configPath, pki).Resources
	var ports []uint32
	for _, l := range res.Listeners {
		ports = append(ports, l.GetAddress().GetSocketAddress().GetPortValue())
	}
	if diff := cmp.Diff([]uint32{8443, 9443}, ports); diff != "" {
		t.Fatalf("listener ports (-want +got):\n%s", diff)
	}
	// What TestEnvoy's SNI and stream-bound checks rely on.
	bounded := res.Listeners[1]
	if f := bounded.GetListenerFilters(); len(f) != 1 || f[0].GetName() != "envoy.filters.listener.tls_inspector" {
		t.Errorf("bounded listener filters = %v, want the tls_inspector", f)
	}
	if n := len(bounded.GetFilterChains()); n != 1 || len(bounded.GetFilterChains()[0].GetFilterChainMatch().GetServerNames()) != 0 {
		t.Errorf("bounded listener: want one chain matching no server names, got %d chains", n)
	}
}

// TestEnvoy runs the checks against a real Envoy, over SotW and over delta
// ADS. The subtests share one gateway and run in order: the revocation one
// changes the PKI and comes last.
func TestEnvoy(t *testing.T) {
	for _, mode := range []struct {
		name  string
		delta bool
	}{{"sotw", false}, {"delta", true}} {
		t.Run(mode.name, func(t *testing.T) {
			g := startGateway(t, mode.delta)
			t.Run("no client certificate fails the handshake", func(t *testing.T) { checkNoCert(t, g) })
			t.Run("allowed client gets 200 and identity headers", func(t *testing.T) { checkAllowed(t, g) })
			t.Run("forged identity header is replaced", func(t *testing.T) { checkForged(t, g) })
			t.Run("client not allowed gets 403", func(t *testing.T) { checkNotAllowed(t, g) })
			t.Run("sessions are never resumed and every connection is authorized", func(t *testing.T) { checkNoResumption(t, g) })
			t.Run("SNI rule applies on a catch-all server", func(t *testing.T) { checkSNIRule(t, g) })
			t.Run("maxConnectionDuration ends a long response", func(t *testing.T) { checkStreamBound(t, g) })
			t.Run("revoked client rejected after CRL push without listener update", func(t *testing.T) { checkRevocation(t, g) })
		})
	}
}

// checkNoCert: MUTUAL refuses the handshake; no HTTP response exists. With
// TLS 1.3 the client finishes its side first and sees Envoy's alert on its
// first read, so the error may come from the request rather than the
// handshake; either way there is no response.
func checkNoCert(t *testing.T, g *gateway) {
	code, _, err := get(g.client(t, ""), g.url("/"), nil)
	if err == nil {
		t.Fatalf("got HTTP %d without a client certificate; want a failed handshake", code)
	}
	if !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("error %q does not look like a TLS failure", err)
	}
}

// aliceIdentity is what the backend must see of alice: her certificate's
// subject (RFC 2253, as Envoy prints it) and URI SAN, once each.
var aliceIdentity = echoed{
	"X-Client-Subject": {"CN=alice,O=E2E"},
	"X-Client-Uri-San": {"spiffe://e2e.example.com/alice"},
}

// checkAllowed: alice passes and the backend sees her certificate's fields.
func checkAllowed(t *testing.T, g *gateway) {
	code, seen, err := get(g.client(t, "alice"), g.url("/"), nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("alice: HTTP %d, %v", code, err)
	}
	if diff := cmp.Diff(aliceIdentity, pick(seen, "X-Client-Subject", "X-Client-Uri-San")); diff != "" {
		t.Errorf("identity headers at the backend (-want +got):\n%s", diff)
	}
}

// checkForged: a client's own identity headers never reach the backend.
func checkForged(t *testing.T, g *gateway) {
	forged := http.Header{"X-Client-Subject": {"CN=admin,O=E2E"}, "X-Client-Uri-San": {"spiffe://e2e.example.com/admin"}}
	code, seen, err := get(g.client(t, "alice"), g.url("/"), forged)
	if err != nil || code != http.StatusOK {
		t.Fatalf("alice: HTTP %d, %v", code, err)
	}
	if diff := cmp.Diff(aliceIdentity, pick(seen, "X-Client-Subject", "X-Client-Uri-San")); diff != "" {
		t.Errorf("identity headers at the backend (-want +got):\n%s", diff)
	}
}

// checkNotAllowed: mallory's certificate is valid but not on the list; a
// forged subject header does not help, since RBAC reads the certificate.
func checkNotAllowed(t *testing.T, g *gateway) {
	for name, header := range map[string]http.Header{
		"plain":         nil,
		"forged header": {"X-Client-Subject": {"CN=alice,O=E2E"}},
	} {
		code, _, err := get(g.client(t, "mallory"), g.url("/"), header)
		if err != nil || code != http.StatusForbidden {
			t.Errorf("%s: mallory got HTTP %d (%v), want 403", name, code, err)
		}
	}
}

// checkRevocation revokes bob while he holds an open connection. The new
// CRL must arrive over SDS only: no listener update, so nothing is drained
// and bob's open connection keeps working (Envoy checks CRLs on new
// handshakes), while a new handshake with bob's certificate fails.
func checkRevocation(t *testing.T, g *gateway) {
	bob := g.client(t, "bob")
	if code, _, err := get(bob, g.url("/"), nil); err != nil || code != http.StatusOK {
		t.Fatalf("bob before revocation: HTTP %d, %v", code, err)
	}
	before, err := envoyStats(g.adminPort)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := certs.Revoke(g.pki, "bob", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteCRLs(g.pki, certs.CRLOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a new handshake with bob's certificate fails", func() error {
		code, _, err := get(g.client(t, "bob"), g.url("/"), nil)
		if err == nil {
			return fmt.Errorf("bob still gets HTTP %d", code)
		}
		return nil
	})

	after, err := envoyStats(g.adminPort)
	if err != nil {
		t.Fatal(err)
	}
	for _, stat := range []string{"listener_manager.listener_modified", "listener_manager.lds.update_success", "listener_manager.total_filter_chains_draining"} {
		if before[stat] != after[stat] {
			t.Errorf("%s changed on a CRL push: %d -> %d", stat, before[stat], after[stat])
		}
	}
	if b, a := sumStats(before, "ssl_context_update_by_sds"), sumStats(after, "ssl_context_update_by_sds"); a <= b {
		t.Errorf("ssl_context_update_by_sds did not grow (%d -> %d): the CRL did not come over SDS", b, a)
	}

	// bob's connection from before the push is still open and reused.
	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, g.url("/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := bob.Do(req)
	if err != nil {
		t.Fatalf("bob's open connection: %v", err)
	}
	closeResponse(t, resp)
	if !reused || resp.StatusCode != http.StatusOK {
		t.Errorf("bob's open connection: reused=%v, HTTP %d; want the pre-push connection still serving 200", reused, resp.StatusCode)
	}

	if code, _, err := get(g.client(t, "alice"), g.url("/"), nil); err != nil || code != http.StatusOK {
		t.Errorf("alice after bob's revocation: HTTP %d, %v", code, err)
	}
}

// pick keeps the named headers.
func pick(h echoed, names ...string) echoed {
	out := echoed{}
	for _, n := range names {
		if v, ok := h[n]; ok {
			out[n] = v
		}
	}
	return out
}
