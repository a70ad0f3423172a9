package props_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustgate/trustgate/xds/envoymodel"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// FuzzPipelineModel runs the whole pipeline on arbitrary YAML (seeded with
// the golden cases, as pipeline's FuzzLoadTranslate is) and, for every
// configuration it accepts, demands that the model of Envoy implements all
// of the output, explains a connection to every server name of every
// listener without failing, and that every security property holds as
// `trustgate check` runs them (bounded probes, clients made from twins of
// the configuration's CAs).
func FuzzPipelineModel(f *testing.F) {
	for _, b := range goldenInputs(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) { pipelineModel(t, src) })
}

// BenchmarkPipelineModel runs the fuzz target's body on every golden input
// (profile it with -cpuprofile: `go test -fuzz` takes no profile).
func BenchmarkPipelineModel(b *testing.B) {
	inputs := goldenInputs(b)
	envoymodeltest.NewPKI(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, in := range inputs {
			pipelineModel(b, in)
		}
	}
}

// goldenInputs are compile/testdata/*.in.yaml.
func goldenInputs(tb testing.TB) [][]byte {
	tb.Helper()
	seeds, err := filepath.Glob(filepath.Join(envoymodeltest.Root(), "compile", "testdata", "*.in.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// pipelineModel is the fuzz target's body.
func pipelineModel(t testing.TB, src []byte) {
	p := envoymodeltest.NewPKI(t)
	cfg, err := envoymodeltest.LoadText(t, p, src, false)
	if err != nil {
		return
	}
	for _, labels := range cfg.Selectors() {
		res, err := cfg.Compile(labels)
		if err != nil {
			return
		}
		m, err := envoymodel.New(envoymodeltest.FromTranslate(res), envoymodel.Options{Now: p.Now})
		if err != nil {
			t.Fatalf("the model refuses what the pipeline emits: %v", err)
		}
		r, err := props.Run(cfg.Model(), labels, envoymodeltest.FromTranslate(res), props.Bounded().With(nil, p.Now))
		if err != nil {
			t.Fatalf("props.Run: %v", err)
		}
		if len(r.Violations) > 0 {
			t.Fatalf("security properties fail for labels %v:\n%s", labels, list(r.Violations))
		}
		for _, l := range res.Listeners {
			port := l.GetAddress().GetSocketAddress().GetPortValue()
			for _, fc := range l.GetFilterChains() {
				for _, sni := range append([]string{""}, fc.GetFilterChainMatch().GetServerNames()...) {
					tr := m.Explain(envoymodel.Connection{Port: port, TLS: true, SNI: sni, ClientChain: p.Clients[envoymodeltest.Alice]},
						envoymodel.Request{Authority: sni, Path: "/"})
					if tr.Verdict == "" {
						t.Fatalf("no verdict for port %d SNI %q", port, sni)
					}
				}
			}
		}
	}
}
