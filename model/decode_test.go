package model

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const positionsYAML = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: edge
spec:
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port:
      number: 443
      protocol: HTTPS
    hosts:
    - a.example.com
    tls:
      mode: SIMPLE
      credentialName: cred
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: vs
spec:
  hosts: [a.example.com]
  gateways: [edge/gw]
  http:
  - match:
    - headers:
        x-foo:
          exact: bar
    route:
    - destination: {host: backend}
`

func TestLoadPositions(t *testing.T) {
	cfg, errs := loadText(t, positionsYAML)
	if errs != nil {
		t.Fatalf("Load: %v", errs)
	}
	if len(cfg.Gateways) != 1 || len(cfg.VirtualServices) != 1 {
		t.Fatalf("got %d gateways, %d virtual services; want 1 and 1", len(cfg.Gateways), len(cfg.VirtualServices))
	}
	gw, vs := cfg.Gateways[0], cfg.VirtualServices[0]
	tests := map[string]struct {
		pos  Position
		path string
		want int
	}{
		"object line":                 {gw.Pos, "", 1},
		"metadata.name":               {gw.Pos, "metadata.name", 4},
		"flow mapping field":          {gw.Pos, "spec.servers[0].port.protocol", 8},
		"list item":                   {gw.Pos, "spec.servers[1]", 10},
		"nested tls mode":             {gw.Pos, "spec.servers[1].tls.mode", 16},
		"list of strings item":        {gw.Pos, "spec.servers[1].hosts[0]", 14},
		"undefined path uses prefix":  {gw.Pos, "spec.servers[1].tls.cipherSuites[3]", 15},
		"second document object line": {vs.Pos, "", 19},
		"header match in map":         {vs.Pos, "spec.http[0].match[0].headers.x-foo.exact", 30},
		"map key":                     {vs.Pos, "spec.http[0].match[0].headers.x-foo", 29},
		"flow mapping in list":        {vs.Pos, "spec.http[0].route[0].destination.host", 32},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.pos.LineOf(tc.path); got != tc.want {
				t.Errorf("LineOf(%q) = %d, want %d", tc.path, got, tc.want)
			}
		})
	}
	if gw.Pos.File == "" || !strings.HasSuffix(gw.Pos.File, "case.yaml") {
		t.Errorf("Pos.File = %q, want .../case.yaml", gw.Pos.File)
	}
	if gw.Metadata.Namespace != "edge" || vs.Metadata.Namespace != "default" {
		t.Errorf("namespaces = %q, %q; want edge, default", gw.Metadata.Namespace, vs.Metadata.Namespace)
	}
	if got := gw.Spec.Servers[1].TLS.CredentialName; got != "cred" {
		t.Errorf("credentialName = %q, want cred", got)
	}
	if got := vs.Spec.HTTP[0].Match[0].Headers["x-foo"].Exact; got != "bar" {
		t.Errorf("header exact = %q, want bar", got)
	}
}

// gwHead is a Gateway document's first lines; cases append its spec.
const gwHead = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n"

// vsHead is a VirtualService document's first lines.
const vsHead = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: vs\n  namespace: web\nspec:\n"

func TestLoadErrors(t *testing.T) {
	tests := map[string]struct {
		yaml string
		want []string
	}{
		"unknown field": {
			yaml: gwHead + "  servers: []\n  foo: 1\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.foo: unknown field "foo"`},
		},
		"unknown field with a case typo": {
			yaml: gwHead + "  servers:\n  - port: {number: 443, protocol: HTTPS}\n    tls: {Mode: SIMPLE}\n",
			want: []string{`case.yaml:8: Gateway default/gw: spec.servers[0].tls.Mode: unknown field "Mode" (did you mean "mode"?)`},
		},
		"unsupported Istio field": {
			yaml: vsHead + "  http:\n  - fault:\n      abort: {httpStatus: 500}\n    route: []\n",
			want: []string{`case.yaml:8: VirtualService web/vs: spec.http[0].fault: field "fault" is not supported by trustgate: fault injection is not implemented`},
		},
		"unsupported Istio field with a reason": {
			yaml: vsHead + "  http:\n  - match:\n    - sourceLabels: {app: a}\n",
			want: []string{`case.yaml:9: VirtualService web/vs: spec.http[0].match[0].sourceLabels: field "sourceLabels" is not supported by trustgate: it selects sidecar workloads`},
		},
		"unsupported traffic policy fields": {
			yaml: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr}\nspec:\n  host: b\n  trafficPolicy:\n    tunnel: {}\n    outlierDetection: {consecutiveErrors: 5}\n    loadBalancer: {localityLbSetting: {}}\n",
			want: []string{
				`case.yaml:7: DestinationRule default/dr: spec.trafficPolicy.tunnel: field "tunnel" is not supported by trustgate: tunnelling TCP over HTTP CONNECT to a proxy is not implemented`,
				`case.yaml:8: DestinationRule default/dr: spec.trafficPolicy.outlierDetection.consecutiveErrors: field "consecutiveErrors" is not supported by trustgate: deprecated, and Istio ignores it: use consecutive5xxErrors`,
				`case.yaml:9: DestinationRule default/dr: spec.trafficPolicy.loadBalancer.localityLbSetting: field "localityLbSetting" is not supported by trustgate: endpoints carry no locality`,
			},
		},
		"numbers for Istio's DoubleValue fields": {
			yaml: "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr}\nspec:\n  host: b\n  trafficPolicy:\n    loadBalancer: {warmup: {duration: 10s, aggression: 1.5, minimumPercent: 10}}\n    retryBudget: {percent: \"20\"}\n",
			want: []string{`case.yaml:8: DestinationRule default/dr: spec.trafficPolicy.retryBudget.percent: expected a number, got "20"`},
		},
		"number expected": {
			yaml: gwHead + "  servers:\n  - port: {number: abc}\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].port.number: expected a number, got "abc"`},
		},
		"quoted number is a string": {
			yaml: gwHead + "  servers:\n  - port:\n      number: \"443\"\n",
			want: []string{`case.yaml:8: Gateway default/gw: spec.servers[0].port.number: expected a number, got "443"`},
		},
		"integer expected": {
			yaml: gwHead + "  servers:\n  - port: {number: 1.5}\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].port.number: expected an integer, got 1.5`},
		},
		"negative into unsigned": {
			yaml: gwHead + "  servers:\n  - port: {number: -1}\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].port.number: expected a number between 0 and 4294967295, got -1`},
		},
		"string expected": {
			yaml: gwHead + "  servers:\n  - port: {name: 8080}\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].port.name: expected a string, got 8080 (quote it: "8080")`},
		},
		"bool expected": {
			yaml: gwHead + "  servers:\n  - tls: {httpsRedirect: maybe}\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].tls.httpsRedirect: expected true or false, got "maybe"`},
		},
		"list expected": {
			yaml: gwHead + "  servers:\n  - hosts: a.example.com\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].hosts: expected a list, got "a.example.com"`},
		},
		"mapping expected": {
			yaml: gwHead + "  servers:\n  - tls: [SIMPLE]\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].tls: expected a mapping, got a list`},
		},
		"duplicate key": {
			yaml: gwHead + "  servers:\n  - tls:\n      mode: SIMPLE\n      mode: MUTUAL\n",
			want: []string{`case.yaml:9: Gateway default/gw: spec.servers[0].tls.mode: duplicate key "mode" (first at line 8)`},
		},
		"duplicate map key": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  tls.crt: a\n  tls.crt: b\n",
			want: []string{`case.yaml:6: Secret default/s: stringData.tls.crt: duplicate key "tls.crt" (first at line 5)`},
		},
		"several errors in several documents": {
			yaml: gwHead + "  servers:\n  - port: {number: x}\n    bogus: 1\n---\n" + vsHead + "  http:\n  - mirror: {host: m}\n",
			want: []string{
				`case.yaml:7: Gateway default/gw: spec.servers[0].port.number: expected a number, got "x"`,
				`case.yaml:8: Gateway default/gw: spec.servers[0].bogus: unknown field "bogus"`,
				`case.yaml:17: VirtualService web/vs: spec.http[0].mirror: field "mirror" is not supported by trustgate: traffic mirroring is not implemented`,
			},
		},
		"unsupported kind": {
			yaml: "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s, namespace: x}\n",
			want: []string{`case.yaml:2: Sidecar x/s: kind: kind "Sidecar" is not supported in networking.istio.io/v1; trustgate reads DestinationRule, Gateway, ServiceEntry, VirtualService`},
		},
		"unsupported apiVersion": {
			yaml: "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\n",
			want: []string{`case.yaml:2: Gateway default/g: kind: apiVersion "gateway.networking.k8s.io/v1" (kind Gateway) is not supported; trustgate reads networking.istio.io/v1, networking.istio.io/v1alpha3, networking.istio.io/v1beta1, security.istio.io/v1, security.istio.io/v1beta1, trustgate.dev/v1alpha1, v1`},
		},
		"a List inside a List": {
			yaml: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n",
			want: []string{`case.yaml:4: List default/: a List inside a List is not supported`},
		},
		"kind missing": {
			yaml: "apiVersion: v1\nmetadata: {name: g}\n",
			want: []string{`case.yaml:1: object default/g: kind is missing`},
		},
		"not an object": {
			yaml: "- a\n- b\n",
			want: []string{`case.yaml:1: expected a Kubernetes object (a mapping with apiVersion and kind), got a list`},
		},
		"YAML syntax error": {
			yaml: gwHead + "  servers: [\n",
			want: []string{`case.yaml:6: invalid YAML: did not find expected node content`},
		},
		"secret data not base64": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\ndata:\n  tls.crt: not*base64\n",
			want: []string{`case.yaml:5: Secret istio-system/s: data.tls.crt: value is not valid base64 (illegal base64 data at input byte 3); use stringData for plain text`},
		},
		"a merge key that merges itself": {
			yaml: gwHead + "  servers:\n  - tls: &t {<<: *t}\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0].tls: merge keys (<<) nested more than 32 deep`},
		},
		"merge key with a bad value": {
			yaml: gwHead + "  servers:\n  - <<: [1]\n",
			want: []string{`case.yaml:7: Gateway default/gw: spec.servers[0]: merge key (<<) needs a mapping or a list of mappings`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, got := loadText(t, tc.yaml)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadAccepts(t *testing.T) {
	tests := map[string]struct {
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		"kubectl metadata and status are ignored": {
			yaml: "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  uid: 0b0c\n  resourceVersion: \"12\"\n  generation: 3\n  creationTimestamp: 2024-01-01T00:00:00Z\n  managedFields: [{manager: kubectl}]\n  labels: {app: a}\n  annotations: {note: x}\nspec:\n  servers: []\nstatus:\n  conditions: []\n",
			check: func(t *testing.T, c *Config) {
				if got := c.Gateways[0].Metadata.Labels["app"]; got != "a" {
					t.Errorf("label app = %q, want a", got)
				}
			},
		},
		"v1 List items": {
			yaml: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: a}\n- apiVersion: networking.istio.io/v1alpha3\n  kind: Gateway\n  metadata: {name: g, namespace: n}\n  spec: {servers: []}\n",
			check: func(t *testing.T, c *Config) {
				if len(c.Secrets) != 1 || len(c.Gateways) != 1 {
					t.Fatalf("got %d secrets, %d gateways; want 1 and 1", len(c.Secrets), len(c.Gateways))
				}
				if got := c.Gateways[0].Pos.Line; got != 7 {
					t.Errorf("gateway line = %d, want 7", got)
				}
				if got := c.Gateways[0].Pos.LineOf("metadata.name"); got != 9 {
					t.Errorf("gateway metadata.name line = %d, want 9", got)
				}
			},
		},
		"anchors, aliases and merge keys": {
			yaml: gwHead + "  servers:\n  - &https\n    port: {number: 443, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: &tls {mode: SIMPLE, credentialName: c}\n  - <<: *https\n    hosts: [b.example.com]\n    tls:\n      <<: *tls\n      credentialName: d\n",
			check: func(t *testing.T, c *Config) {
				s := c.Gateways[0].Spec.Servers
				if len(s) != 2 || s[1].Port.Number != 443 || s[1].Hosts[0] != "b.example.com" ||
					s[1].TLS.Mode != "SIMPLE" || s[1].TLS.CredentialName != "d" || s[0].TLS.CredentialName != "c" {
					t.Errorf("servers = %+v", s)
				}
			},
		},
		"merge key with a list: earlier mappings win, explicit keys win over all": {
			yaml: gwHead + "  selector:\n    <<: [&a {x: a1, y: a2}, &b {x: b1, z: b3}]\n    y: own\n  servers: []\n",
			check: func(t *testing.T, c *Config) {
				want := map[string]string{"x": "a1", "y": "own", "z": "b3"}
				if diff := cmp.Diff(want, c.Gateways[0].Spec.Selector); diff != "" {
					t.Errorf("selector (-want +got):\n%s", diff)
				}
			},
		},
		"YAML 1.1 booleans": {
			yaml: gwHead + "  servers:\n  - tls: {httpsRedirect: yes}\n",
			check: func(t *testing.T, c *Config) {
				if !c.Gateways[0].Spec.Servers[0].TLS.HTTPSRedirect {
					t.Error("httpsRedirect = false, want true")
				}
			},
		},
		"trustgate kind with inline matchers": {
			yaml: "apiVersion: trustgate.dev/v1alpha1\nkind: ClientCertificatePolicy\nmetadata: {name: p}\nspec:\n  targetRef: {kind: Gateway, name: gw}\n  subjectAltNames:\n  - type: URI\n    prefix: spiffe://example.org/\n",
			check: func(t *testing.T, c *Config) {
				san := c.ClientCertificatePolicies[0].Spec.SubjectAltNames[0]
				if san.Type != "URI" || san.Prefix != "spiffe://example.org/" {
					t.Errorf("san = %+v", san)
				}
				if got := c.ClientCertificatePolicies[0].Pos.LineOf("spec.subjectAltNames[0].prefix"); got != 8 {
					t.Errorf("prefix line = %d, want 8", got)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, errs := loadText(t, tc.yaml)
			if errs != nil {
				t.Fatalf("Load: %v", errs)
			}
			tc.check(t, c)
		})
	}
}

// aliasBomb is a VirtualService whose 1000 routes alias one route whose 100
// matches alias one match of 100 headers: 10^7 header matches from a few
// kilobytes.
func aliasBomb() string {
	var headers []string
	for i := range 100 {
		headers = append(headers, fmt.Sprintf("h%d: {exact: x}", i))
	}
	return vsHead + "  hosts: [a.example.com]\n  http:\n  - &r\n    match:\n    - &mm\n      headers: {" + strings.Join(headers, ", ") + "}\n" +
		strings.Repeat("    - *mm\n", 99) +
		"    route: [{destination: {host: h}}]\n" +
		strings.Repeat("  - *r\n", 999)
}

func TestLoadAliasBomb(t *testing.T) {
	text := aliasBomb()
	start := time.Now()
	_, errs := loadText(t, text)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Load took %v", d)
	}
	want := []string{`case.yaml:12: VirtualService web/vs: spec.http[24].match[80].headers.h65: file expands to more than 1000000 nodes (recursive YAML aliases?); giving up`}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestLoadAliasBombInLargeFile: a large file's bound (twice its size) still
// stops aliases: the bomb above, padded past a megabyte, cold and through
// the document cache.
func TestLoadAliasBombInLargeFile(t *testing.T) {
	text := aliasBomb() + strings.Repeat("# padding\n", 60_000)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"case.yaml": text})
	opts := LoadOptions{Paths: []string{filepath.Join(dir, "case.yaml")}}
	want := fmt.Sprintf("file expands to more than %d nodes (recursive YAML aliases?); giving up", 2*len(text))
	for name, load := range map[string]func() (*Config, error){
		"cold":      func() (*Config, error) { return Load(opts) },
		"via cache": func() (*Config, error) { return LoadWith(opts, NewCache()) },
	} {
		_, err := load()
		errs := errorLines(err, dir)
		if len(errs) != 1 || !strings.HasSuffix(errs[0], want) {
			t.Errorf("%s: errors %q, want one ending %q", name, errs, want)
		}
	}
}

func TestLoadTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(gwHead + "  servers: []\n")
	for i := range 150 {
		fmt.Fprintf(&b, "  f%d: 1\n", i)
	}
	_, errs := loadText(t, b.String())
	if len(errs) != maxDecodeErrors+1 {
		t.Fatalf("got %d errors, want %d", len(errs), maxDecodeErrors+1)
	}
	// Sorted by line: the give-up notice sits at the line where it was given.
	want := "case.yaml:107: Gateway default/gw: too many errors; giving up on this document"
	if errs[len(errs)-1] != want {
		t.Errorf("last error = %q, want %q", errs[len(errs)-1], want)
	}
}

func TestErrorsUnwrap(t *testing.T) {
	_, errs := loadText(t, gwHead+"  servers: []\n  foo: 1\n")
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want 1", errs)
	}
	c := &Config{}
	_, err := c.ResolveCredential("default", "x")
	o := &Object{Kind: "Gateway", Metadata: ObjectMeta{Name: "gw", Namespace: "default"}, Pos: Position{File: "f.yaml", Line: 3}}
	var list Errors
	list.Add(o.ErrorAt("spec", err))
	if !errors.Is(list.Err(), ErrSecretNotFound) {
		t.Errorf("errors.Is(%v, ErrSecretNotFound) = false", list.Err())
	}
}

// TestLoadLargeFileWithoutAliases: the bound on nodes stops aliases, not
// size. A file of 1.2 million nodes and no alias (400 VirtualServices of
// 3,000 hosts each; a 10,000-host configuration with its policies in one
// file has as many) loads, cold and through the document cache, whose path
// counts nodes apart.
func TestLoadLargeFileWithoutAliases(t *testing.T) {
	hosts := strings.TrimSuffix(strings.Repeat("a, ", 3000), ", ")
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs%d, namespace: web}\nspec:\n  hosts: [%s]\n", i, hosts)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"case.yaml": b.String()})
	opts := LoadOptions{Paths: []string{filepath.Join(dir, "case.yaml")}}
	cache := NewCache()
	for _, load := range []struct {
		name string
		fn   func() (*Config, error)
	}{
		{"cold", func() (*Config, error) { return Load(opts) }},
		{"filling the cache", func() (*Config, error) { return LoadWith(opts, cache) }},
		{"from the cache", func() (*Config, error) { return LoadWith(opts, cache) }},
	} {
		cfg, err := load.fn()
		if err != nil {
			t.Fatalf("%s: %v", load.name, errorLines(err, dir))
		}
		if len(cfg.VirtualServices) != 400 {
			t.Fatalf("%s: %d VirtualServices, want 400", load.name, len(cfg.VirtualServices))
		}
	}
}
