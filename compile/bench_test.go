package compile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/irbuild"
	"github.com/trustgate/trustgate/xds/translate"
)

// writeScaleConfig writes n mTLS hosts on port 443, each its own Gateway
// server (own filter chain and route configuration, as every TLS server gets)
// with a VirtualService of two routes to its own backend, all sharing one
// wildcard certificate and client CA: the shape of the "gateways" case of
// Istio's pilot/pkg/xds/bench_test.go (1,000 Gateway + VirtualService).
func writeScaleConfig(b *testing.B, n int) model.LoadOptions {
	b.Helper()
	dir := b.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "wildcard", Hosts: []string{"*.example.com"}}); err != nil {
		b.Fatal(err)
	}
	var y strings.Builder
	y.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&y, "  - name: h%d\n    port: {number: 443, name: https-%d, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: wildcard, caCertCredentialName: client-ca}\n", i, i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&y, "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: h%d, namespace: edge}\nspec:\n  hosts: [h%d.example.com]\n  gateways: [gw]\n  http:\n"+
			"  - match: [{uri: {prefix: /api}}]\n    route: [{destination: {host: api-%d.internal, port: {number: 8080}}}]\n    timeout: 5s\n"+
			"  - route: [{destination: {host: web-%d.internal, port: {number: 8080}}}]\n", i, i, i, i)
	}
	path := filepath.Join(dir, "scale.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secrets}}
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
			proxy, err := irbuild.Build(m, irbuild.Node{Labels: map[string]string{"istio": "ingressgateway"}})
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
