package e2e_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// derivedTemplate serves host on three ports (filled in with Sprintf, then
// the backend's port):
//   - OPTIONAL_MUTUAL with ingress-nginx headers, and an AuthorizationPolicy
//     in ingress-nginx's habit: /admin needs ssl-client-verify SUCCESS
//     (issue 9 item 4: the condition must be on the connection, not the
//     header a client can send);
//   - MUTUAL with an exact DNS SAN requirement, which Envoy matches with DNS
//     wildcard rules (issue 9 item 11: a *.e2e.example.com certificate
//     passes);
//   - MUTUAL with the same requirement and noWildcard, which it must not.
const derivedTemplate = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: e2e, namespace: e2e}
spec:
  selector: {e2e: envoy-test}
  servers:
  - name: optional
    port: {number: %d, name: https, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: [e2e.example.com]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: gateway-cert}
  - name: exact
    port: {number: %d, name: https-exact, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: [e2e.example.com]
    tls: {mode: MUTUAL, credentialName: gateway-cert}
  - name: literal
    port: {number: %d, name: https-literal, protocol: HTTPS}
    bind: 127.0.0.1
    hosts: [e2e.example.com]
    tls: {mode: MUTUAL, credentialName: gateway-cert}
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
metadata: {name: optional, namespace: e2e}
spec:
  targetRef: {kind: Gateway, name: e2e, sectionName: optional}
  identityHeaders: {ingressNginx: true}
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: exact, namespace: e2e}
spec:
  targetRef: {kind: Gateway, name: e2e, sectionName: exact}
  subjectAltNames: [{type: DNS, exact: admin.e2e.example.com}]
---
apiVersion: trustgate.dev/v1alpha1
kind: ClientCertificatePolicy
metadata: {name: literal, namespace: e2e}
spec:
  targetRef: {kind: Gateway, name: e2e, sectionName: literal}
  subjectAltNames: [{type: DNS, exact: admin.e2e.example.com, noWildcard: true}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: admin-needs-certificate, namespace: e2e}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: e2e}
  rules:
  - to: [{operation: {notPaths: ["/admin*"]}}]
  - to: [{operation: {paths: ["/admin*"]}}]
    when:
    - key: request.headers[ssl-client-verify]
      values: [SUCCESS]
`

// derivedGateway is a running gateway on derivedTemplate.
type derivedGateway struct {
	*gateway
	exactPort, literalPort int
}

// portClient is a client presenting name's certificate ("" for none) to port.
func (g *derivedGateway) portClient(t *testing.T, port int, name string) *http.Client {
	t.Helper()
	return httpsClient(clientTLS(t, g.pki, host, name), "127.0.0.1:"+strconv.Itoa(port))
}

// portURL is path on port.
func (g *derivedGateway) portURL(port int, path string) string {
	return "https://" + host + ":" + strconv.Itoa(port) + path
}

func derivedConfig(port, exactPort, literalPort, backendPort int) string {
	return fmt.Sprintf(derivedTemplate, port, exactPort, literalPort, backendPort)
}

// TestDerivedConfigCompiles runs without Envoy: the configuration
// TestEnvoyDerived serves loads and compiles, and its /admin rule tests the
// connection, not a header.
func TestDerivedConfigCompiles(t *testing.T) {
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	makePKI(t, pki)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(derivedConfig(8443, 8444, 8445, 8080)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := compileForEnvoy(t, path, pki).Resources
	if len(res.Listeners) != 3 {
		t.Fatalf("want 3 listeners, got %d", len(res.Listeners))
	}
}

// TestEnvoyDerived runs the checks against a real Envoy (SotW ADS).
func TestEnvoyDerived(t *testing.T) {
	var exactPort, literalPort int
	g := startGatewayWith(t, false, func(g *gateway, backendPort int) string {
		exactPort, literalPort = freePort(t), freePort(t)
		return derivedConfig(g.port, exactPort, literalPort, backendPort)
	})
	d := &derivedGateway{gateway: g, exactPort: exactPort, literalPort: literalPort}
	t.Run("ssl-client-verify forged without a certificate", func(t *testing.T) { checkForgedVerify(t, d) })
	t.Run("ssl-client-verify from the connection", func(t *testing.T) { checkVerify(t, d) })
	t.Run("exact DNS SAN accepts a wildcard certificate", func(t *testing.T) { checkDNSSAN(t, d, d.exactPort, true) })
	t.Run("noWildcard DNS SAN refuses a wildcard certificate", func(t *testing.T) { checkDNSSAN(t, d, d.literalPort, false) })
}

// checkForgedVerify: without a certificate, a forged ssl-client-verify
// does not open /admin, and the backend sees NONE elsewhere.
func checkForgedVerify(t *testing.T, g *derivedGateway) {
	forged := http.Header{"Ssl-Client-Verify": {"SUCCESS"}}
	noCert := g.client(t, "")
	if code, _, err := get(noCert, g.url("/admin/x"), forged); err != nil || code != http.StatusForbidden {
		t.Errorf("no certificate, forged header, /admin: HTTP %d (%v), want 403", code, err)
	}
	code, seen, err := get(noCert, g.url("/"), forged)
	if err != nil || code != http.StatusOK {
		t.Fatalf("no certificate, /: HTTP %d (%v), want 200", code, err)
	}
	if diff := cmp.Diff(echoed{"Ssl-Client-Verify": {"NONE"}}, pick(seen, "Ssl-Client-Verify")); diff != "" {
		t.Errorf("ssl-client-verify at the backend (-want +got):\n%s", diff)
	}
}

// checkVerify: with a certificate /admin opens, on a fresh TLS session and
// on a resumed one when Envoy resumes it (the rule must not depend on
// Envoy's validated bit, which is false on resumed sessions).
func checkVerify(t *testing.T, g *derivedGateway) {
	cfg := clientTLS(t, g.pki, host, "alice")
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	for _, what := range []string{"first connection", "second connection"} {
		resumed := false
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if c, ok := i.Conn.(*tls.Conn); ok {
				resumed = c.ConnectionState().DidResume
			}
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, g.url("/admin/x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := httpsClient(cfg, "127.0.0.1:"+strconv.Itoa(g.port))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var seen echoed
		decodeErr := json.NewDecoder(resp.Body).Decode(&seen)
		closeResponse(t, resp)
		c.CloseIdleConnections()
		t.Logf("%s: resumed=%v", what, resumed)
		if resp.StatusCode != http.StatusOK || decodeErr != nil {
			t.Errorf("%s (resumed=%v): alice on /admin: HTTP %d (%v), want 200", what, resumed, resp.StatusCode, decodeErr)
			continue
		}
		if diff := cmp.Diff(echoed{"Ssl-Client-Verify": {"SUCCESS"}}, pick(seen, "Ssl-Client-Verify")); diff != "" {
			t.Errorf("%s: ssl-client-verify at the backend (-want +got):\n%s", what, diff)
		}
	}
}

// checkDNSSAN: the admin certificate passes; the wildcard one passes only
// where wildcard is true (Envoy's DNS matching of an exact DNS SAN).
func checkDNSSAN(t *testing.T, g *derivedGateway, port int, wildcard bool) {
	if code, _, err := get(g.portClient(t, port, "admin"), g.portURL(port, "/"), nil); err != nil || code != http.StatusOK {
		t.Errorf("admin certificate: HTTP %d (%v), want 200", code, err)
	}
	code, _, err := get(g.portClient(t, port, "wild"), g.portURL(port, "/"), nil)
	switch {
	case wildcard && (err != nil || code != http.StatusOK):
		t.Errorf("*.%s certificate: HTTP %d (%v); Envoy's exact DNS SAN match was expected to accept it", host, code, err)
	case !wildcard && err == nil:
		t.Errorf("*.%s certificate: HTTP %d; want a failed handshake", host, code)
	case !wildcard && !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset"):
		t.Errorf("*.%s certificate: error %q does not look like a TLS failure", host, err)
	}
}
