package props_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// TestParallelEqualsSequential: the probes run on every core give the
// result one core gives, to the example and count of every violation, on
// each mutation fixture (every one of which has violations) and with the
// probes bounded (props.Bounded, as check runs them) or not.
func TestParallelEqualsSequential(t *testing.T) {
	p := envoymodeltest.NewPKI(t)
	clients := pkiClients(p)
	labels := map[string]string{"istio": "ingressgateway"}
	run := func(t *testing.T, procs int, name string, opts props.Options) string {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		cfg := loadIntent(t, p, filepath.Join("testdata", "prefix", name+".yaml"))
		res := envoymodeltest.LoadFixture(t, p, filepath.Join("testdata", "prefix", name+".fixture.yaml"))
		out, err := props.Run(cfg, labels, res, opts.With(clients, p.Now))
		if err != nil {
			t.Fatal(err)
		}
		s := fmt.Sprintf("probes %d validated %d\n", out.Probes, out.Validated)
		for _, v := range out.Violations {
			s += fmt.Sprintf("%+v\n", v)
		}
		for _, u := range out.Unverified {
			s += fmt.Sprintf("unverified %s/%d\n", u.Gateway, u.Index)
		}
		return s
	}
	for name, mu := range mutations {
		if mu.file != "" {
			continue // the same fixture as another
		}
		for opts, o := range map[string]props.Options{"unbounded": {}, "bounded": props.Bounded()} {
			t.Run(name+"/"+opts, func(t *testing.T) {
				one := run(t, 1, name, o)
				if diff := cmp.Diff(one, run(t, 4, name, o)); diff != "" {
					t.Errorf("four cores differ from one (-one +four):\n%s", diff)
				}
			})
		}
	}
}
