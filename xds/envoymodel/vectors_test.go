package envoymodel

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/rbac/principals/mtls_authenticated/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"
)

// loadVectors reads testdata/envoy/<name> into v.
func loadVectors(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "envoy", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// protoFrom decodes Envoy's JSON form of a message.
func protoFrom(t *testing.T, raw json.RawMessage, m proto.Message) {
	t.Helper()
	if len(raw) == 0 {
		return
	}
	if err := protojson.Unmarshal(raw, m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

// TestEnvoyFilterChainVectors: filter-chain selection as Envoy's listener
// tests expect it.
func TestEnvoyFilterChainVectors(t *testing.T) {
	var tests []struct {
		Source, Test string
		Chains       []struct {
			Name  string
			Match json.RawMessage
		}
		Default string
		Lookups []struct {
			Note, Destination, SNI, Transport, Want string
			Port                                    uint32
			ALPN                                    []string
		}
	}
	loadVectors(t, "filter_chains.yaml", &tests)
	for _, tc := range tests {
		t.Run(tc.Test, func(t *testing.T) {
			l := &listener{}
			for _, c := range tc.Chains {
				fm := &listenerv3.FilterChainMatch{}
				protoFrom(t, c.Match, fm)
				l.chains = append(l.chains, &chain{name: c.Name, match: fm})
			}
			if tc.Default != "" {
				l.fallback = &chain{name: tc.Default, match: &listenerv3.FilterChainMatch{}}
			}
			if err := checkDuplicateMatches(l); err != nil {
				t.Fatal(err)
			}
			for _, lk := range tc.Lookups {
				s := socket{local: netip.MustParseAddr(lk.Destination), port: lk.Port, sni: asciiLower(lk.SNI), transport: lk.Transport, alpn: lk.ALPN}
				c, why := findFilterChain(l, s)
				got := ""
				if c != nil {
					got = c.name
				}
				if got != lk.Want {
					t.Errorf("%s: %+v: chain %q, want %q (%s)", tc.Source, lk, got, lk.Want, why)
				}
			}
		})
	}
}

// TestEnvoyRouteVectors: virtual host selection, route matching and the
// router's header finalization as Envoy's config_impl tests expect them.
func TestEnvoyRouteVectors(t *testing.T) {
	var tests []struct {
		Source, Test string
		RouteConfig  json.RawMessage `json:"route_config"`
		Requests     []struct {
			Note, Host, Path, Cluster string
			Headers                   map[string]string
		}
	}
	loadVectors(t, "routes.yaml", &tests)
	for _, tc := range tests {
		t.Run(tc.Test, func(t *testing.T) {
			rc := &routev3.RouteConfiguration{}
			protoFrom(t, tc.RouteConfig, rc)
			m, err := New(&Resources{Routes: []*routev3.RouteConfiguration{rc}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, rq := range tc.Requests {
				// genHeaders(host, path, method) with x-forwarded-proto.
				h := &headerMap{}
				h.add(":authority", rq.Host)
				h.add(":path", rq.Path)
				h.add(":method", "GET")
				h.add("x-forwarded-proto", "http")
				vh, _ := findVirtualHost(rc, rq.Host)
				if vh == nil {
					t.Errorf("%s %s: no virtual host", rq.Host, rq.Path)
					continue
				}
				res := m.findRoute(vh, h, Peer{})
				if res.route == nil {
					t.Errorf("%s %s: no route", rq.Host, rq.Path)
					continue
				}
				a := res.route.GetRoute()
				if rq.Cluster != "" && a.GetCluster() != rq.Cluster {
					t.Errorf("%s %s: cluster %q, want %q", rq.Host, rq.Path, a.GetCluster(), rq.Cluster)
				}
				r := &run{m: m, conn: &Connection{}, t: &Trace{}}
				out := r.finalize(selection{rc: rc, vh: vh, route: res.route}, a, nil, h)
				for k, want := range rq.Headers {
					if got, _ := out.get(k); got != want {
						t.Errorf("%s %s: %s = %q, want %q", rq.Host, rq.Path, k, got, want)
					}
				}
			}
		})
	}
}

// rbacConn describes the connection of an RBAC vector.
type rbacConn struct {
	TLS       bool
	Validated bool
	Local     string
	LocalPort uint32 `json:"local_port"`
	Remote    string
	SNI       string
	URISANs   []string `json:"uri_sans"`
	DNSSANs   []string `json:"dns_sans"`
	Subject   string
}

// context builds the RBAC context of a vector.
func (c rbacConn) context(t *testing.T, headers [][]string, state map[string]string) *rbacContext {
	t.Helper()
	conn := &Connection{Port: c.LocalPort, SNI: c.SNI, TLS: c.TLS}
	if c.Remote != "" {
		conn.SourceIP = netip.MustParseAddr(c.Remote)
	}
	ctx := &rbacContext{conn: conn, sni: c.SNI, peer: Peer{TLS: c.TLS, Validated: c.Validated}, filterState: state, headers: &headerMap{}}
	if c.Local != "" {
		ctx.local = netip.MustParseAddr(c.Local)
	}
	for _, kv := range headers {
		ctx.headers.add(kv[0], kv[1])
	}
	if c.TLS {
		cert := &x509.Certificate{DNSNames: c.DNSSANs}
		for _, u := range c.URISANs {
			pu, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			cert.URIs = append(cert.URIs, pu)
		}
		ctx.cert = &peerCert{cert: cert, uris: c.URISANs, dns: c.DNSSANs, subject: c.Subject}
		ctx.peer.Presented = true
	}
	return ctx
}

// TestEnvoyRBACVectors: RBAC permissions, principals and policies as
// Envoy's matchers tests expect them.
func TestEnvoyRBACVectors(t *testing.T) {
	var tests []struct {
		Source, Test string
		Connection   rbacConn
		Headers      [][]string
		Cases        []struct {
			Permission, Principal, Policy json.RawMessage
			Headers                       [][]string
			FilterState                   map[string]string `json:"filter_state"`
			Want                          bool
		}
	}
	loadVectors(t, "rbac.yaml", &tests)
	for _, tc := range tests {
		t.Run(tc.Test, func(t *testing.T) {
			for i, c := range tc.Cases {
				headers := tc.Headers
				if c.Headers != nil {
					headers = c.Headers
				}
				m, got := &Model{regexes: map[string]*regexp.Regexp{}, formats: map[string]*format{}}, false
				ctx := tc.Connection.context(t, headers, c.FilterState)
				switch {
				case c.Permission != nil:
					p := &rbacv3.Permission{}
					protoFrom(t, c.Permission, p)
					if err := m.compilePermission(p); err != nil {
						t.Fatal(err)
					}
					got = m.permission(p, ctx)
				case c.Principal != nil:
					p := &rbacv3.Principal{}
					protoFrom(t, c.Principal, p)
					if err := m.compilePrincipal(p); err != nil {
						t.Fatal(err)
					}
					got = m.principal(p, ctx)
				default:
					p := &rbacv3.Policy{}
					protoFrom(t, c.Policy, p)
					rules := &rbacv3.RBAC{Action: rbacv3.RBAC_ALLOW, Policies: map[string]*rbacv3.Policy{"p": p}}
					if err := m.compileRBAC(rules); err != nil {
						t.Fatal(err)
					}
					got = m.policyMatches(p, ctx)
				}
				if got != c.Want {
					t.Errorf("%s: case %d: matches = %v, want %v", tc.Source, i, got, c.Want)
				}
			}
		})
	}
}

// headerContext is the stream of a header vector.
type headerContext struct {
	Remote, Local, Protocol string
	LocalPort               uint32     `json:"local_port"`
	RequestHeaders          [][]string `json:"request_headers"`
}

// formatContext builds the formatter context of a vector.
func (c headerContext) formatContext() *formatContext {
	conn := &Connection{Port: c.LocalPort}
	if c.Remote != "" {
		conn.SourceIP = netip.MustParseAddr(c.Remote)
	}
	ctx := &formatContext{conn: conn, protocol: c.Protocol, headers: &headerMap{}}
	if c.Local != "" {
		ctx.local = netip.MustParseAddr(c.Local)
	}
	for _, kv := range c.RequestHeaders {
		ctx.headers.add(kv[0], kv[1])
	}
	return ctx
}

// TestEnvoyHeaderVectors: header values formatted, removed and added as
// Envoy's header parser tests expect them.
func TestEnvoyHeaderVectors(t *testing.T) {
	var tests []struct {
		Source, Test string
		Context      headerContext
		Parse        []struct {
			Note, Value, Want string
			Absent, Error     bool
		}
		Request [][]string
		Add     []json.RawMessage
		Remove  []string
		Want    map[string]string
		Absent  []string
		Counts  map[string]int
	}
	loadVectors(t, "headers.yaml", &tests)
	for _, tc := range tests {
		t.Run(tc.Test, func(t *testing.T) {
			m := &Model{regexes: map[string]*regexp.Regexp{}, formats: map[string]*format{}}
			for _, p := range tc.Parse {
				opt := &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: "x-header", Value: p.Value}}
				err := m.compileHeaderOps([]*corev3.HeaderValueOption{opt})
				if p.Error {
					if err == nil {
						t.Errorf("%q: accepted, Envoy refuses it", p.Value)
					}
					continue
				}
				if err != nil {
					t.Errorf("%q: %v", p.Value, err)
					continue
				}
				ctx := tc.Context.formatContext()
				h := &headerMap{}
				h.add(":method", "POST")
				m.evaluateHeaders(headerOps{add: []*corev3.HeaderValueOption{opt}}, h, ctx)
				got, ok := h.get("x-header")
				if p.Absent != !ok || (ok && got != p.Want) {
					t.Errorf("%q: x-header = %q (present %v), want %q (absent %v)", p.Value, got, ok, p.Want, p.Absent)
				}
			}
			if tc.Request == nil {
				return
			}
			var adds []*corev3.HeaderValueOption
			for _, raw := range tc.Add {
				o := &corev3.HeaderValueOption{}
				protoFrom(t, raw, o)
				adds = append(adds, o)
			}
			if err := m.compileHeaderOps(adds, tc.Remove...); err != nil {
				t.Fatal(err)
			}
			h := &headerMap{}
			for _, kv := range tc.Request {
				h.add(kv[0], kv[1])
			}
			m.evaluateHeaders(headerOps{add: adds, remove: tc.Remove}, h, tc.Context.formatContext())
			for k, want := range tc.Want {
				if got, _ := h.get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, k := range tc.Absent {
				if _, ok := h.get(k); ok {
					t.Errorf("%s present, want absent", k)
				}
			}
			for k, n := range tc.Counts {
				if got := len(h.values(k)); got != n {
					t.Errorf("%s appears %d times, want %d", k, got, n)
				}
			}
		})
	}
}

// TestEnvoyDNSAndSubjectVectors: DNS SAN wildcard matching and the RFC 2253
// subject as Envoy's TLS utility tests expect them.
func TestEnvoyDNSAndSubjectVectors(t *testing.T) {
	var tests []struct {
		Source, Test string
		Cases        [][]any
		Subject      [][]string
		Want         string
	}
	loadVectors(t, "dns.yaml", &tests)
	oids := map[string]asn1.ObjectIdentifier{
		"C": {2, 5, 4, 6}, "ST": {2, 5, 4, 8}, "L": {2, 5, 4, 7}, "O": {2, 5, 4, 10}, "OU": {2, 5, 4, 11}, "CN": {2, 5, 4, 3},
	}
	for _, tc := range tests {
		t.Run(tc.Test, func(t *testing.T) {
			for _, c := range tc.Cases {
				name, pattern, want := c[0].(string), c[1].(string), c[2].(bool)
				if got := dnsNameMatch(name, pattern); got != want {
					t.Errorf("dnsNameMatch(%q, %q) = %v, want %v", name, pattern, got, want)
				}
			}
			if tc.Subject == nil {
				return
			}
			var seq pkix.RDNSequence
			for _, a := range tc.Subject {
				seq = append(seq, pkix.RelativeDistinguishedNameSET{{Type: oids[a[0]], Value: a[1]}})
			}
			raw, err := asn1.Marshal(seq)
			if err != nil {
				t.Fatal(err)
			}
			if got := rfc2253(raw); got != tc.Want {
				t.Errorf("subject = %q, want %q", got, tc.Want)
			}
		})
	}
}
