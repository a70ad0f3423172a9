package props_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// FuzzGeneratedGateway checks the security properties on gateways built
// from the fuzzer's bytes, so that nearly every input is a configuration
// trustgate accepts (FuzzPipelineModel mutates YAML, and most of what it
// makes does not load): servers of every TLS mode on one or two ports with
// exact, wildcard and "*" hosts, VirtualServices with authority and path
// matches over shared backends, ClientCertificatePolicies (depth, SAN
// matchers, rejections, allow and deny rules) and AuthorizationPolicies
// (principals, hosts, paths, methods, derived-header and SNI conditions).
// Every property must hold, with the golden PKI's clients (every probe)
// and with the clients `trustgate check` makes (bounded).
//
// A header filled from the certificate is set on some routes and not on
// others, and a server's hosts can be "*" besides other names: the two
// shapes FuzzGeneratedGateway found failing and that the builder now
// handles (TestCheckIdentityHeaderOnAnotherHost,
// TestCheckStarServerWithNames in cmd/trustgate).
func FuzzGeneratedGateway(f *testing.F) {
	for _, s := range []string{"", "\x01\x02\x03\x04\x05\x06\x07\x08", "\xff\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0", "\x03\x01\x01\x02\x02\x01\x00\x03\x01\x02\x01\x01\x02\x00\x01\x01",
		// a MUTUAL ["*", "*.mtls.example.com"] and a SIMPLE "*.example.com" on port 443, a VirtualService for x.mtls.example.com
		"\x01\x01\x06\x00\x05\x01\x00\x03\x01\x01\x01\x00\x04\x00\x00\x00\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := envoymodeltest.NewPKI(t)
		src := generateGateway(b)
		cfg, err := envoymodeltest.LoadText(t, p, []byte(src), true)
		if err != nil {
			return
		}
		for _, labels := range cfg.Selectors() {
			res, err := cfg.Compile(labels)
			if err != nil {
				t.Fatalf("Load accepted the configuration but Compile failed: %v", err)
			}
			for _, run := range []struct {
				name    string
				clients []props.Client
				opts    props.Options
			}{{"the PKI's clients, every probe", pkiClients(p), props.Options{}}, {"check's clients, bounded", nil, props.Bounded()}} {
				r, err := props.Run(cfg.Model(), labels, envoymodeltest.FromTranslate(res), run.opts.With(run.clients, p.Now))
				if err != nil {
					t.Fatalf("%s: %v\n%s", run.name, err, src)
				}
				if len(r.Violations) > 0 {
					t.Fatalf("%s: security properties fail:\n%s\nconfiguration:\n%s", run.name, list(r.Violations), src)
				}
			}
		}
	})
}

// choices reads decisions from the fuzzer's bytes (0 once they run out).
type choices struct {
	b []byte
	i int
}

// pick is a number below n.
func (c *choices) pick(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	c.i++
	return int(c.b[c.i-1]) % n
}

// one picks an element.
func (c *choices) one(list []string) string { return list[c.pick(len(list))] }

// take picks an element and removes it from *list ("" once it is empty).
func (c *choices) take(list *[]string) string {
	if len(*list) == 0 {
		return ""
	}
	i := c.pick(len(*list))
	v := (*list)[i]
	*list = append((*list)[:i:i], (*list)[i+1:]...)
	return v
}

var (
	genHosts = []string{"a.example.com", "b.example.com", "admin.example.com", "*.example.com", "x.mtls.example.com", "*.mtls.example.com", "*"}
	genModes = []string{"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"}
)

// generateGateway writes a configuration from the choices in b.
func generateGateway(b []byte) string {
	c := &choices{b: b}
	var y strings.Builder
	y.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n")
	type server struct {
		name, mode string
		hosts      []string
	}
	var servers []server
	free := append([]string{}, genHosts...) // a host is on one server of a port
	for i, n := 0, 1+c.pick(4); i < n; i++ {
		s := server{name: fmt.Sprintf("s%d", i), mode: c.one(genModes), hosts: []string{c.take(&free)}}
		if c.pick(3) == 0 && len(free) > 0 {
			s.hosts = append(s.hosts, c.take(&free))
		}
		port := 443
		if c.pick(4) == 0 {
			port = 8443
		}
		fmt.Fprintf(&y, "  - name: %s\n    port: {number: %d, name: https-%d, protocol: HTTPS}\n    hosts: [%s]\n    tls: {mode: %s, credentialName: server",
			s.name, port, i, quoted(s.hosts), s.mode)
		if s.mode != "SIMPLE" {
			y.WriteString(", caCertCredentialName: client-ca")
		}
		y.WriteString("}\n")
		servers = append(servers, s)
	}
	if c.pick(3) == 0 {
		redirect := c.pick(2) == 1
		fmt.Fprintf(&y, "  - name: plain\n    port: {number: 80, name: http, protocol: HTTP}\n    hosts: [%q]\n", c.one(genHosts))
		if redirect {
			y.WriteString("    tls: {httpsRedirect: true}\n")
		}
	}
	vsHosts := append([]string{}, genHosts...) // a host has one VirtualService
	for i, n := 0, 1+c.pick(3); i < n; i++ {
		writeVirtualService(&y, c, i, c.take(&vsHosts))
	}
	for _, s := range servers {
		if s.mode != "SIMPLE" && c.pick(2) == 1 {
			writeCertPolicy(&y, c, s.name, s.mode)
		}
	}
	for i, n := 0, c.pick(3); i < n; i++ {
		writeAuthorizationPolicy(&y, c, i)
	}
	return y.String()
}

// writeVirtualService writes one VirtualService of the gateway; each of
// its routes may fill x-client-dn from the certificate.
func writeVirtualService(y *strings.Builder, c *choices, i int, host string) {
	fmt.Fprintf(y, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs%d, namespace: edge}\nspec:\n  hosts: [%q]\n  gateways: [gw]\n  http:\n", i, host)
	for r, n := 0, 1+c.pick(2); r < n; r++ {
		y.WriteString("  - ")
		switch c.pick(4) {
		case 1:
			y.WriteString("match: [{uri: {prefix: /admin}}]\n    ")
		case 2:
			fmt.Fprintf(y, "match: [{authority: {exact: %s}}]\n    ", c.one(genHosts[:3]))
		}
		fmt.Fprintf(y, "route: [{destination: {host: backend%d.internal, port: {number: 8080}}}]\n", c.pick(3))
		if c.pick(2) == 1 {
			y.WriteString("    headers: {request: {set: {x-client-dn: \"%DOWNSTREAM_PEER_SUBJECT%\"}}}\n")
		}
	}
}

// writeCertPolicy writes a ClientCertificatePolicy for one server.
func writeCertPolicy(y *strings.Builder, c *choices, server, mode string) {
	fmt.Fprintf(y, "---\napiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: p-%s, namespace: edge}\nspec:\n  targetRef: {kind: Gateway, name: gw, sectionName: %s}\n", server, server)
	fmt.Fprintf(y, "  verifyDepth: %d\n", c.pick(3))
	if c.pick(3) == 0 {
		y.WriteString("  subjectAltNames: [{type: URI, prefix: \"spiffe://example.com/\"}]\n")
	}
	if mode == "OPTIONAL_MUTUAL" && c.pick(2) == 1 {
		fmt.Fprintf(y, "  rejection: {status: %d, body: \"certificate required\\n\"}\n", []int{400, 401, 403}[c.pick(3)])
	}
	if rules := c.pick(4); rules > 0 {
		y.WriteString("  authorization:\n")
		if rules&1 != 0 {
			fmt.Fprintf(y, "    allow: [{name: a, commonName: [{prefix: %q}]}]\n", c.one([]string{"alice", "ops-", "b"}))
		}
		if rules&2 != 0 {
			fmt.Fprintf(y, "    deny: [{name: d, uriSan: [{prefix: %q}]}]\n", c.one([]string{"spiffe://example.com/team-x/", "spiffe://example.com/alice"}))
		}
	}
}

// writeAuthorizationPolicy writes an AuthorizationPolicy for the proxy.
func writeAuthorizationPolicy(y *strings.Builder, c *choices, i int) {
	fmt.Fprintf(y, "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap%d, namespace: edge}\nspec:\n  selector: {matchLabels: {istio: ingressgateway}}\n  action: %s\n  rules:\n",
		i, c.one([]string{"ALLOW", "DENY"}))
	switch c.pick(5) {
	case 0:
		fmt.Fprintf(y, "  - from: [{source: {principals: [%q]}}]\n", c.one([]string{"spiffe://example.com/alice", "spiffe://example.com/*"}))
	case 1:
		fmt.Fprintf(y, "  - to: [{operation: {hosts: [%q], paths: [%q]}}]\n", c.one(genHosts[:3]), c.one([]string{"/admin/*", "/"}))
	case 2:
		fmt.Fprintf(y, "  - to: [{operation: {methods: [%q]}}]\n", c.one([]string{"GET", "POST"}))
	case 3:
		y.WriteString("  - when: [{key: \"request.headers[x-client-dn]\", values: [\"CN=alice,O=Example\"]}]\n")
	default:
		fmt.Fprintf(y, "  - when: [{key: connection.sni, values: [%q]}]\n", c.one(genHosts[:3]))
	}
}

// quoted renders a YAML flow list of strings.
func quoted(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(out, ", ")
}
