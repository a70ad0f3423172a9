package props_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/internal/goldentest"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// updating reports -update (the flag internal/goldentest defines): rewrite
// the violation reports from today's pipeline, and write a pre-fix fixture
// that does not exist yet. An existing fixture is never rewritten: it is the
// output from before a fix, and today's pipeline no longer produces it.
func updating() bool { return *goldentest.Update }

// mutation is one defect of issue 9 whose pre-fix output is frozen in
// testdata/prefix/<name>.fixture.yaml: the property that must catch it, and
// what its example must show.
type mutation struct {
	file string // the fixture's name when not the mutation's
	prop string
	conn string // substrings of the violation's connection
	req  string // and of its request
	// fix, when set, changes the frozen resources the way the fix does;
	// the property must then hold.
	fix func(t *testing.T, res *envoymodel.Resources)
}

var mutations = map[string]mutation{
	"host-bypass":             {prop: props.PropMutual, conn: "SNI w1.example.com, certificate none", req: "Host admin.example.com"},
	"host-bypass/misdirected": {file: "host-bypass", prop: props.PropMisdirected, conn: "SNI w1.example.com", req: "Host admin.example.com"},
	"resumption":              {prop: props.PropAuthz, conn: "certificate alice, resumed session", req: "Host api.example.com", fix: disableResumption},
	"derived-header":          {prop: props.PropAuthz, conn: "certificate none", req: "ssl-client-verify: SUCCESS"},
	"plaintext-port":          {prop: props.PropIdentity, conn: "port 80, plaintext", req: "x-client-subject: forged-by-client"},
	"allow-hides-421":         {prop: props.PropRejection, conn: "certificate none", req: "Host portal.example.com"},
	"sni-no-inspector":        {prop: props.PropAuthz, conn: "SNI any.example.net", req: "Host any.example.net", fix: addInspector},
	"dns-wildcard-san":        {prop: props.PropMutual, conn: "certificate wildcard", req: "Host api.example.com"},
}

// TestMutations is the mutation check: each defect of the security issue,
// fed as the resources trustgate produced before its fix, is caught by a
// property with a concrete connection and request; where the fix can be
// applied to the frozen resources, the property then holds.
func TestMutations(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	clients := pkiClients(p)
	for name, mu := range mutations {
		t.Run(name, func(t *testing.T) {
			file := name
			if mu.file != "" {
				file = mu.file
			}
			cfgPath := filepath.Join("testdata", "prefix", file+".yaml")
			fixture := filepath.Join("testdata", "prefix", file+".fixture.yaml")
			if _, err := os.Stat(fixture); updating() && mu.file == "" && errors.Is(err, fs.ErrNotExist) {
				src, err := os.ReadFile(cfgPath)
				if err != nil {
					t.Fatal(err)
				}
				_, groups := envoymodeltest.LoadYAML(t, p, string(src))
				envoymodeltest.WriteFixture(t, p, groups[0].Raw, fixture)
			}
			cfg := loadIntent(t, p, cfgPath)
			res := envoymodeltest.LoadFixture(t, p, fixture)
			labels := map[string]string{"istio": "ingressgateway"}
			vs, err := props.Check(cfg, labels, res, clients, p.Now)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := caught(vs, mu)
			if !ok {
				t.Fatalf("%s did not catch the defect with %q / %q; violations:\n%s", mu.prop, mu.conn, mu.req, list(vs))
			}
			t.Logf("caught: %s", v)
			if mu.fix == nil {
				return
			}
			mu.fix(t, res)
			vs, err = props.Check(cfg, labels, res, clients, p.Now)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				if v.Property == mu.prop {
					t.Errorf("after the fix, %s still fails: %s", mu.prop, v)
				}
			}
		})
	}
}

// caught is the violation of the property that shows the defect.
func caught(vs []props.Violation, mu mutation) (props.Violation, bool) {
	for _, v := range vs {
		if v.Property == mu.prop && strings.Contains(v.Connection, mu.conn) && strings.Contains(v.Request, mu.req) {
			return v, true
		}
	}
	return props.Violation{}, false
}

// list renders violations one per line.
func list(vs []props.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.String() + "\n")
	}
	return b.String()
}

// loadIntent loads a configuration's objects (not its translation): what
// the configuration means.
func loadIntent(t *testing.T, p *envoymodeltest.PKI, path string) *model.Config {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expanded := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(expanded, p.Expand(t, src, true), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := model.Load(model.LoadOptions{Paths: []string{expanded}, SecretsDirs: []string{p.Dir}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// pkiClients are the PKI's client chains.
func pkiClients(p *envoymodeltest.PKI) []props.Client {
	var out []props.Client
	for _, n := range []string{envoymodeltest.Alice, envoymodeltest.Bob, envoymodeltest.Revoked, envoymodeltest.Stranger, envoymodeltest.Expired, envoymodeltest.Wildcard} {
		out = append(out, props.Client{Name: n, Chain: p.Clients[n]})
	}
	return out
}

// disableResumption is the resumption fix: both session-resumption
// switches off on every downstream TLS context.
func disableResumption(t *testing.T, res *envoymodel.Resources) {
	t.Helper()
	for _, l := range res.Listeners {
		for _, fc := range l.GetFilterChains() {
			if fc.GetTransportSocket() == nil {
				continue
			}
			ctx := &tlsv3.DownstreamTlsContext{}
			if err := fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
				t.Fatal(err)
			}
			ctx.SessionTicketKeysType = &tlsv3.DownstreamTlsContext_DisableStatelessSessionResumption{DisableStatelessSessionResumption: true}
			ctx.DisableStatefulSessionResumption = true
			a, err := anypb.New(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fc.TransportSocket.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
		}
	}
}

// addInspector is the SNI fix: tls_inspector on every listener.
func addInspector(t *testing.T, res *envoymodel.Resources) {
	t.Helper()
	a, err := anypb.New(&tlsinspectorv3.TlsInspector{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Listeners {
		if len(l.GetListenerFilters()) == 0 {
			l.ListenerFilters = []*listenerv3.ListenerFilter{{
				Name: "envoy.filters.listener.tls_inspector", ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: a},
			}}
		}
	}
}
