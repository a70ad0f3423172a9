package explain

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/pembundle"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/translate"
)

// Query is one connection and request to explain, as a user states it.
type Query struct {
	Port     uint32
	SNI      string
	CertFile string // a PEM chain, leaf first ("" for none)
	Resumed  bool
	Host     string // "" means the SNI
	Path     string
	Method   string
	Headers  []string // "Name: value"
	SourceIP string   // "" means 192.0.2.1
	// TLS is "tls", "plaintext" or "" (decided from the listener: TLS
	// when any chain on the port terminates or inspects TLS, or when an
	// SNI, a certificate or resumption is given).
	TLS  string
	ALPN []string // nil means h2, http/1.1 on TLS
}

// DefaultSourceIP is the client address when none is given (TEST-NET-1).
const DefaultSourceIP = "192.0.2.1"

// Explain compiles the proxy group's resources and explains the query.
func Explain(cfg *compile.Config, node compile.Node, q Query, now time.Time) (*envoymodel.Trace, error) {
	out, err := cfg.Build(node)
	if err != nil {
		return nil, err
	}
	return ExplainResources(out.Resources, q, now)
}

// ModelResources hands the pipeline's resources to the model of Envoy
// (which must not import the pipeline, so the conversion lives here).
func ModelResources(res *translate.Resources) *envoymodel.Resources {
	return &envoymodel.Resources{Listeners: res.Listeners, Routes: res.Routes, Clusters: res.Clusters, Secrets: res.Secrets}
}

// ExplainResources explains the query against compiled resources.
func ExplainResources(res *translate.Resources, q Query, now time.Time) (*envoymodel.Trace, error) {
	m, err := envoymodel.New(ModelResources(res), envoymodel.Options{Now: now})
	if err != nil {
		return nil, fmt.Errorf("the model of Envoy cannot take this configuration: %w", err)
	}
	conn, req, err := q.build(res)
	if err != nil {
		return nil, err
	}
	return m.Explain(conn, req), nil
}

// build turns the query into the model's connection and request.
func (q Query) build(res *translate.Resources) (envoymodel.Connection, envoymodel.Request, error) {
	src := q.SourceIP
	if src == "" {
		src = DefaultSourceIP
	}
	ip, err := netip.ParseAddr(src)
	if err != nil {
		return envoymodel.Connection{}, envoymodel.Request{}, fmt.Errorf("--source-ip %q: %w", src, err)
	}
	conn := envoymodel.Connection{Port: q.Port, SNI: q.SNI, Resumed: q.Resumed, SourceIP: ip, ALPN: q.ALPN}
	if q.CertFile != "" {
		if conn.ClientChain, err = readChain(q.CertFile); err != nil {
			return conn, envoymodel.Request{}, err
		}
	}
	switch q.TLS {
	case "tls":
		conn.TLS = true
	case "plaintext":
	case "":
		conn.TLS = q.SNI != "" || q.CertFile != "" || q.Resumed || portSpeaksTLS(res, q.Port)
	default:
		return conn, envoymodel.Request{}, fmt.Errorf("unknown transport %q (want tls or plaintext)", q.TLS)
	}
	if conn.TLS && conn.ALPN == nil {
		conn.ALPN = []string{"h2", "http/1.1"}
	}
	req := envoymodel.Request{Method: q.Method, Authority: q.Host, Path: q.Path}
	if req.Authority == "" {
		req.Authority = q.SNI
	}
	for _, h := range q.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return conn, req, fmt.Errorf("-H %q: want \"Name: value\"", h)
		}
		req.Headers = append(req.Headers, envoymodel.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	return conn, req, nil
}

// portSpeaksTLS reports whether a client of this port would start TLS: some
// chain of its listener terminates TLS or matches transport "tls".
func portSpeaksTLS(res *translate.Resources, port uint32) bool {
	for _, l := range res.Listeners {
		if l.GetAddress().GetSocketAddress().GetPortValue() != port {
			continue
		}
		for _, c := range l.GetFilterChains() {
			if c.GetTransportSocket() != nil || c.GetFilterChainMatch().GetTransportProtocol() == "tls" {
				return true
			}
		}
	}
	return false
}

// readChain reads a PEM certificate chain, leaf first.
func readChain(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--cert: %w", err)
	}
	out, err := pembundle.Certificates(b)
	if err != nil {
		return nil, fmt.Errorf("--cert %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, errors.New("--cert " + path + ": no CERTIFICATE block")
	}
	return out, nil
}
