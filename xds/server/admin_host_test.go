package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// TestAdminHostNames: the admin endpoints answer only requests whose Host is
// an IP address, localhost or a configured name. A page on a name the
// attacker controls, re-resolved to 127.0.0.1 (DNS rebinding), sends its
// own name and is refused, so it cannot read /debug/config.
func TestAdminHostNames(t *testing.T) {
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	opts := h.options()
	opts.AdminHosts = []string{"trustgate.internal"}
	h.start(opts)
	h.mustReload() // /debug/config answers once a configuration is loaded
	tests := map[string]struct {
		host string
		want int
	}{
		"localhost with port":            {host: "localhost:9902", want: http.StatusOK},
		"localhost in capitals":          {host: "LocalHost", want: http.StatusOK},
		"IPv4 loopback":                  {host: "127.0.0.1:9902", want: http.StatusOK},
		"IPv6 loopback":                  {host: "[::1]:9902", want: http.StatusOK},
		"another IP address":             {host: "10.1.2.3:9902", want: http.StatusOK},
		"configured name":                {host: "trustgate.internal:9902", want: http.StatusOK},
		"configured name with a dot":     {host: "trustgate.internal.", want: http.StatusOK},
		"attacker's name":                {host: "rebind.attacker.example:9902", want: http.StatusForbidden},
		"localhost as a subdomain":       {host: "localhost.attacker.example", want: http.StatusForbidden},
		"IP-looking name":                {host: "127.0.0.1.nip.io", want: http.StatusForbidden},
		"configured name as a suffix":    {host: "evil-trustgate.internal", want: http.StatusForbidden},
		"configured name as a prefix":    {host: "trustgate.internal.attacker.example", want: http.StatusForbidden},
		"empty host (HTTP/1.0, no Host)": {host: "", want: http.StatusOK},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/healthz", "/debug/config", "/debug/proxies", "/metrics"} {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Host = tc.host
				rec := httptest.NewRecorder()
				h.srv.AdminHandler().ServeHTTP(rec, req)
				if rec.Code != tc.want {
					t.Errorf("GET %s with Host %q: %d %s, want %d", path, tc.host, rec.Code, rec.Body, tc.want)
				}
				if tc.want == http.StatusForbidden && !strings.Contains(rec.Body.String(), "--admin-host") {
					t.Errorf("the refusal does not say how to allow the name: %q", rec.Body)
				}
			}
		})
	}
	// Over real HTTP, as a browser would send it.
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/debug/config", h.adminAddr), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "rebind.attacker.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), fixture.ListenerName) {
		t.Errorf("rebound request: %s %q, want 403 and no configuration", resp.Status, body)
	}
}
