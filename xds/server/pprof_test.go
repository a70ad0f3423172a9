package server_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// claimedAddr is a listener on 127.0.0.1 that reports another address, so
// that a test can serve as if bound to every interface without being so.
type claimedAddr struct {
	net.Listener
	addr net.Addr
}

func (l claimedAddr) Addr() net.Addr { return l.addr }

// servePprofHarness serves the admin endpoints on a loopback listener
// that reports claimed as its address (nil: its own), and returns the
// address to reach it.
func servePprofHarness(t *testing.T, claimed net.Addr) string {
	t.Helper()
	h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
	real, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := real
	if claimed != nil {
		admin = claimedAddr{Listener: real, addr: claimed}
	}
	serve(t, h.options(), admin)
	return real.Addr().String()
}

func get(t *testing.T, addr, path, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer closeBody(t, resp)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func closeBody(t *testing.T, resp *http.Response) {
	t.Helper()
	if err := resp.Body.Close(); err != nil {
		t.Error(err)
	}
}

// TestPprofOnLoopbackOnly: Go's profiles are served under /debug/pprof/
// when the admin listener is bound to a loopback address, and not at all
// otherwise (a heap profile or goroutine dump shows request data; a CPU
// profile costs CPU). The Host check applies to them as to every admin
// endpoint.
func TestPprofOnLoopbackOnly(t *testing.T) {
	tests := map[string]struct {
		claimed net.Addr // nil: the listener's own, 127.0.0.1
		want    int
	}{
		"127.0.0.1":             {want: http.StatusOK},
		"::1":                   {claimed: &net.TCPAddr{IP: net.IPv6loopback, Port: 9902}, want: http.StatusOK},
		"every interface":       {claimed: &net.TCPAddr{IP: net.IPv4zero, Port: 9902}, want: http.StatusNotFound},
		"every interface, IPv6": {claimed: &net.TCPAddr{IP: net.IPv6unspecified, Port: 9902}, want: http.StatusNotFound},
		"a private address":     {claimed: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9902}, want: http.StatusNotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			addr := servePprofHarness(t, tc.claimed)
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/heap", "/debug/pprof/cmdline", "/debug/pprof/symbol"} {
				code, body := get(t, addr, path, "")
				if code != tc.want {
					t.Errorf("GET %s: %d, want %d: %.200q", path, code, tc.want, body)
				}
			}
			if code, _ := get(t, addr, "/healthz", ""); code != http.StatusOK {
				t.Errorf("GET /healthz: %d, want 200", code)
			}
		})
	}
	t.Run("the index lists the profiles", func(t *testing.T) {
		addr := servePprofHarness(t, nil)
		if _, body := get(t, addr, "/debug/pprof/", ""); !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
			t.Errorf("index: %.300s", body)
		}
	})
	t.Run("go tool pprof's symbol lookup (POST)", func(t *testing.T) {
		addr := servePprofHarness(t, nil)
		resp, err := http.Post("http://"+addr+"/debug/pprof/symbol", "text/plain", strings.NewReader("0x1"))
		if err != nil {
			t.Fatal(err)
		}
		defer closeBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("POST /debug/pprof/symbol: %d, want 200", resp.StatusCode)
		}
	})
	t.Run("a rebinding Host is refused", func(t *testing.T) {
		addr := servePprofHarness(t, nil)
		if code, _ := get(t, addr, "/debug/pprof/goroutine?debug=1", "rebind.attacker.example"); code != http.StatusForbidden {
			t.Errorf("GET with an attacker's Host: %d, want 403", code)
		}
	})
}
