package translate

import (
	"testing"

	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/irbuild"
)

// BenchmarkContentKey keys every route configuration, cluster and filter
// chain of the gencfg workload at 1,000 hosts, as a reload does.
func BenchmarkContentKey(b *testing.B) {
	dir := b.TempDir()
	if err := scalecfg.Write(dir, scalecfg.Options{Hosts: 1000}, false); err != nil {
		b.Fatal(err)
	}
	cfg, err := model.Load(scalecfg.LoadOptions(dir))
	if err != nil {
		b.Fatal(err)
	}
	p, err := irbuild.Build(cfg, irbuild.Node{Labels: scalecfg.Selector})
	if err != nil {
		b.Fatal(err)
	}
	var vs []any
	for _, rc := range p.RouteConfigs {
		vs = append(vs, rc)
	}
	for _, c := range p.Clusters {
		vs = append(vs, c)
	}
	for _, l := range p.Listeners {
		for _, ch := range l.Chains {
			vs = append(vs, ch)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, v := range vs {
			if _, err := contentKey(v); err != nil {
				b.Fatal(err)
			}
		}
	}
}
