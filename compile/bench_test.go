package compile_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/internal/scalecfg"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/irbuild"
	"github.com/trustgate/trustgate/xds/translate"
)

// writeScaleConfig writes n mTLS hosts on port 443, each its own Gateway
// server (own filter chain and route configuration, as every TLS server gets)
// with a VirtualService of two routes to its own backend, all sharing one
// wildcard certificate and client CA: the shape of the "gateways" case of
// Istio's pilot/pkg/xds/bench_test.go (1,000 Gateway + VirtualService).
//
// It is scalecfg's workload with every server on one Gateway and two routes
// per host.
func writeScaleConfig(b *testing.B, n int) model.LoadOptions {
	b.Helper()
	_, opts := scaleDir(b, scalecfg.Options{Hosts: n, PerGateway: n, Routes: 2})
	return opts
}

// BenchmarkLoad measures a whole reload: read and decode the YAML, validate,
// build the IR, diagnose certificates, translate and check references.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			opts := writeScaleConfig(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := compile.Load(opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoadWithPolicies is BenchmarkLoad on the workload with each
// host's policies and backends (scalecfg.Options.Policies): a
// DestinationRule and a ServiceEntry per backend, a ClientCertificatePolicy
// and an AuthorizationPolicy per server, all servers on one Gateway.
// Lookups that scan every object of a kind once per host show here as
// super-linear growth from 1,000 to 10,000 hosts.
func BenchmarkLoadWithPolicies(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			_, opts := scaleDir(b, scalecfg.Options{Hosts: n, PerGateway: n, Routes: 2, Policies: true})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := compile.Load(opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTranslate measures IR -> Envoy resources (with ValidateAll and the
// reference checks) alone, and reports the wire size of each resource type.
func BenchmarkTranslate(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			opts := writeScaleConfig(b, n)
			m, err := model.Load(opts)
			if err != nil {
				b.Fatal(err)
			}
			proxy, err := irbuild.Build(m, irbuild.Node{Labels: scalecfg.Selector})
			if err != nil {
				b.Fatal(err)
			}
			var res *translate.Resources
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res, err = translate.Translate(proxy); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(wireSize(res.Listeners)), "LDS-bytes")
			b.ReportMetric(float64(wireSize(res.Routes)), "RDS-bytes")
			b.ReportMetric(float64(wireSize(res.Clusters)), "CDS-bytes")
		})
	}
}

func wireSize[M proto.Message](msgs []M) int {
	n := 0
	for _, m := range msgs {
		n += proto.Size(m)
	}
	return n
}
