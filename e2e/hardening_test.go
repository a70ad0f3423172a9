package e2e_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"testing"
	"time"
)

// checkNoResumption: a client that caches sessions (tickets in TLS 1.3, IDs
// or tickets in TLS 1.2) never resumes one on the MUTUAL chain, and every
// new connection gets 200 from the ALLOW rule. Were a session resumed, Envoy
// would report the certificate as not validated and the rule would answer
// 403 (envoyproxy/envoy#42668).
func checkNoResumption(t *testing.T, g *gateway) {
	for name, version := range map[string]uint16{"TLS 1.2": tls.VersionTLS12, "TLS 1.3": tls.VersionTLS13} {
		cfg := clientTLS(t, g.pki, host, "alice")
		cfg.MinVersion, cfg.MaxVersion = version, version
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		c := httpsClient(cfg, "127.0.0.1:"+strconv.Itoa(g.port))
		c.Transport.(*http.Transport).DisableKeepAlives = true // a new handshake per request
		for i := range 3 {
			resumed := false
			trace := &httptrace.ClientTrace{TLSHandshakeDone: func(s tls.ConnectionState, _ error) { resumed = s.DidResume }}
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, g.url("/"), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("%s connection %d: %v", name, i, err)
			}
			closeResponse(t, resp)
			if resumed || resp.StatusCode != http.StatusOK {
				t.Errorf("%s connection %d: resumed=%v, HTTP %d; want a full handshake and 200", name, i, resumed, resp.StatusCode)
			}
		}
	}
}

// checkSNIRule: on the catch-all server, whose chain matches no server
// names, the DENY on connection.sni still applies. RBAC reads the SNI that
// only the tls_inspector records, so this fails if the listener lacks it.
func checkSNIRule(t *testing.T, g *gateway) {
	for name, tc := range map[string]struct {
		sni  string
		want int
	}{
		"allowed name": {sni: host, want: http.StatusOK},
		"denied name":  {sni: "denied.example.com", want: http.StatusForbidden},
	} {
		cfg := clientTLS(t, g.pki, tc.sni, "alice")
		verifyServerAs(cfg, host)
		c := httpsClient(cfg, "127.0.0.1:"+strconv.Itoa(g.boundedPort))
		code, _, err := get(c, g.boundedURL("/"), nil)
		if err != nil || code != tc.want {
			t.Errorf("%s (SNI %s): HTTP %d, %v; want %d", name, tc.sni, code, err, tc.want)
		}
	}
}

// checkStreamBound: on the server with maxConnectionDuration 2s, a response
// that streams for 20 s is cut about 2 s after the request started
// (max_stream_duration), not when the backend finishes: the connection's own
// bound only starts a drain, which waits for the stream.
func checkStreamBound(t *testing.T, g *gateway) {
	c := httpsClient(clientTLS(t, g.pki, host, "alice"), "127.0.0.1:"+strconv.Itoa(g.boundedPort))
	c.Timeout = 30 * time.Second
	start := time.Now()
	resp, err := c.Get(g.boundedURL(slowPath))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer closeResponse(t, resp)
	n, err := io.Copy(io.Discard, resp.Body)
	elapsed := time.Since(start)
	if err == nil && n >= slowBytes {
		t.Fatalf("the whole %d-byte response arrived after %v; want it cut at about 2 s", n, elapsed)
	}
	if elapsed < 1500*time.Millisecond || elapsed > 10*time.Second {
		t.Errorf("response cut after %v (%d bytes, %v); want about 2 s", elapsed, n, err)
	}
}

// verifyServerAs makes cfg check the server's certificate for name rather
// than for the SNI it sends.
func verifyServerAs(cfg *tls.Config, name string) {
	roots := cfg.RootCAs
	cfg.InsecureSkipVerify = true // replaced by VerifyConnection below
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("no server certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
		return err
	}
}
