package e2e_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/certs"
)

// hostsTemplate puts three servers with different client-certificate
// policies on one port, one VirtualService covering all of them, and an
// ALLOW policy that lets alice in anywhere and anyone onto www only. Ports
// are filled in with Sprintf: the listener, then the backend.
const hostsTemplate = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: hosts, namespace: e2e}
spec:
  selector: {e2e: envoy-test}
  servers:
  - name: public
    port: {number: %[1]d, name: https-public, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: ["*.example.com"]
    tls: {mode: SIMPLE, credentialName: gateway-cert}
  - name: admin
    port: {number: %[1]d, name: https-admin, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: [admin.example.com]
    tls: {mode: MUTUAL, credentialName: gateway-cert}
  - name: partners
    port: {number: %[1]d, name: https-partners, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: ["*.partners.example.com"]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: gateway-cert}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: site, namespace: e2e}
spec:
  hosts: ["*.example.com"]
  gateways: [hosts]
  http:
  - route: [{destination: {host: 127.0.0.1, port: {number: %[2]d}}}]
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: partners, namespace: e2e}
spec:
  targetRef: {kind: Gateway, name: hosts, sectionName: partners}
  rejection: {status: 400}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: hosts, namespace: e2e}
spec:
  targetRef: {kind: Gateway, name: hosts}
  rules:
  - from: [{source: {principals: ["spiffe://e2e.example.com/alice"]}}]
  - to: [{operation: {hosts: [www.example.com]}}]
`

// makeHostsPKI is makePKI with a certificate for every host of
// hostsTemplate.
func makeHostsPKI(t *testing.T, dir string) {
	t.Helper()
	if err := certs.Init(dir, certs.InitOptions{Intermediate: true}); err != nil {
		t.Fatal(err)
	}
	hosts := []string{"*.example.com", "admin.example.com", "*.partners.example.com"}
	if _, err := certs.Issue(dir, certs.KindServer, certs.IssueOptions{Name: "gateway-cert", Hosts: hosts}); err != nil {
		t.Fatal(err)
	}
	opts := certs.IssueOptions{Name: "alice", CommonName: "alice", Organization: "E2E", URIs: []string{"spiffe://e2e.example.com/alice"}}
	if _, err := certs.Issue(dir, certs.KindClient, opts); err != nil {
		t.Fatal(err)
	}
}

// writeHostsConfig writes hostsTemplate for the listener and backend ports.
func writeHostsConfig(t *testing.T, dir string, port, backend int) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(hostsTemplate, port, backend)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHostsConfigCompiles runs without Envoy: TestEnvoyHosts's
// configuration loads, and the public server's route configuration answers
// 421 for the admin and partner hosts.
func TestHostsConfigCompiles(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	makeHostsPKI(t, pki)
	res := compileForEnvoy(t, writeHostsConfig(t, dir, 8443, 8080), pki).Resources
	for _, rc := range res.Routes {
		if rc.GetName() != "https.8443.e2e.hosts.public" {
			continue
		}
		for _, vh := range rc.GetVirtualHosts() {
			if vh.GetName() == "misdirected-request" {
				if got := strings.Join(vh.GetDomains(), ","); got != "*,*.partners.example.com,admin.example.com" {
					t.Errorf("421 domains of the public server: %s", got)
				}
				return
			}
		}
	}
	t.Error("the public server's route configuration has no 421 virtual host")
}

// TestEnvoyHosts checks against a real Envoy what the model in
// compile/envoymodel_test.go predicts: SNI and Host are matched
// separately, and the route configurations make up for it. The requests
// for another server's host and the partner request without a certificate
// match no ALLOW rule: they get 421 and 400 only because those answers
// bypass RBAC.
func TestEnvoyHosts(t *testing.T) {
	envoy := envoyBinary(t) // skips without Envoy, before any work
	tg := trustgateBinary(t)
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	makeHostsPKI(t, pki)
	port, adminPort := freePort(t), freePort(t)
	backend := echoBackend(t)
	configDir := filepath.Join(dir, "config")
	writeHostsConfig(t, configDir, port, backend.Listener.Addr().(*net.TCPAddr).Port)

	xdsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	tgAdmin := "127.0.0.1:" + strconv.Itoa(freePort(t))
	start(t, "trustgate", tg, "serve", "--config", configDir, "--secrets-dir", pki, "--xds-addr", xdsAddr, "--admin-addr", tgAdmin)
	waitFor(t, "trustgate /readyz", func() error { return httpOK("http://" + tgAdmin + "/readyz") })
	bootstrap, err := exec.Command(tg, "bootstrap", "--node-id", "e2e", "--node-labels", labels, "--xds-addr", xdsAddr, "--admin-port", strconv.Itoa(adminPort)).Output()
	if err != nil {
		t.Fatalf("trustgate bootstrap: %v", err)
	}
	bootstrapPath := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(bootstrapPath, bootstrap, 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "envoy", envoy, "-c", bootstrapPath, "--disable-hot-restart", "--log-level", "info")

	// request sends SNI sni and Host host, with client certificate name
	// ("" for none), and returns the status and the body.
	request := func(sni, host, name string) (status int, body string, err error) {
		c := httpsClient(clientTLS(t, pki, sni, name), "127.0.0.1:"+strconv.Itoa(port))
		req, err := http.NewRequest(http.MethodGet, "https://"+sni+":"+strconv.Itoa(port)+"/", nil)
		if err != nil {
			return 0, "", err
		}
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer closeBody(resp, &err)
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	waitFor(t, "www gets 200 through Envoy", func() error {
		code, _, err := request("www.example.com", "www.example.com", "")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("HTTP %d", code)
		}
		return err
	})
	p := strconv.Itoa(port)
	for _, tc := range []struct {
		name, sni, host, cert string
		code                  int
		body                  string
	}{
		{"public host", "www.example.com", "www.example.com", "", 200, ""},
		{"admin with alice", "admin.example.com", "admin.example.com", "alice", 200, ""},
		{"admin host over the public chain", "www.example.com", "admin.example.com", "", 421, "Misdirected Request"},
		{"admin host with port and case", "www.example.com", "ADMIN.example.com:" + p, "", 421, "Misdirected Request"},
		{"admin host with a trailing dot", "www.example.com", "admin.example.com.", "", 421, "Misdirected Request"},
		{"partner host over the public chain", "www.example.com", "a.partners.example.com", "", 421, "Misdirected Request"},
		{"partner without certificate under an ALLOW policy", "a.partners.example.com", "a.partners.example.com", "", 400, "No required SSL certificate was sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, err := request(tc.sni, tc.host, tc.cert)
			if err != nil || code != tc.code || !strings.Contains(body, tc.body) {
				t.Errorf("SNI %s, Host %s: HTTP %d %q (%v), want %d %q", tc.sni, tc.host, code, body, err, tc.code, tc.body)
			}
		})
	}
}
