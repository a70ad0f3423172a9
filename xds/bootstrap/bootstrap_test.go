package bootstrap

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/trustgate/trustgate/xds/server/labels"
)

var update = flag.Bool("update", false, "rewrite the bootstrap files in envoy/")

// files are the bootstraps committed in envoy/, with the options of the
// `trustgate bootstrap` command lines envoy/README.md gives for them.
var files = map[string]Options{
	"bootstrap-sotw.yaml":  {NodeID: "gateway-1", Cluster: "trustgate", Labels: map[string]string{"app": "trustgate-default"}, XDSAddr: "127.0.0.1:18000", AdminPort: 9901},
	"bootstrap-delta.yaml": {NodeID: "gateway-1", Cluster: "trustgate", Labels: map[string]string{"app": "trustgate-default"}, XDSAddr: "127.0.0.1:18000", AdminPort: 9901, Delta: true},
}

func TestCommittedfilesAreCurrent(t *testing.T) {
	for name, opts := range files {
		t.Run(name, func(t *testing.T) {
			b, err := Generate(opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := YAML(b)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "..", "envoy", name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./xds/bootstrap -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s is stale; run go test ./xds/bootstrap -update (-committed +generated):\n%s", path, diff)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	base := Options{NodeID: "gw-1", Cluster: "edge", Labels: map[string]string{"app": "gw"}, XDSAddr: "trustgate.internal:18000", AdminPort: 9901}
	tests := map[string]struct {
		opts    func(*Options)
		apiType corev3.ApiConfigSource_ApiType
		kind    clusterv3.Cluster_DiscoveryType
		tls     *tlsv3.UpstreamTlsContext
	}{
		"sotw to a DNS name": {
			opts: func(*Options) {}, apiType: corev3.ApiConfigSource_GRPC, kind: clusterv3.Cluster_STRICT_DNS,
		},
		"delta to an IP": {
			opts:    func(o *Options) { o.Delta, o.XDSAddr = true, "10.0.0.1:18000" },
			apiType: corev3.ApiConfigSource_DELTA_GRPC, kind: clusterv3.Cluster_STATIC,
		},
		"mutual TLS to a DNS name": {
			opts: func(o *Options) {
				o.TLS = &TLSFiles{CA: "/etc/xds/ca.pem", Cert: "/etc/xds/tls.crt", Key: "/etc/xds/tls.key"}
			},
			apiType: corev3.ApiConfigSource_GRPC, kind: clusterv3.Cluster_STRICT_DNS,
			tls: &tlsv3.UpstreamTlsContext{
				Sni: "trustgate.internal",
				CommonTlsContext: &tlsv3.CommonTlsContext{
					TlsParams: &tlsv3.TlsParameters{
						TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
						TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
					},
					TlsCertificates: []*tlsv3.TlsCertificate{{CertificateChain: file("/etc/xds/tls.crt"), PrivateKey: file("/etc/xds/tls.key")}},
					ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
						TrustedCa: file("/etc/xds/ca.pem"),
						MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
							SanType: tlsv3.SubjectAltNameMatcher_DNS,
							Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "trustgate.internal"}},
						}},
					}},
					AlpnProtocols: []string{"h2"},
				},
			},
		},
		"TLS to an IP checks an IP SAN and sends no SNI": {
			opts:    func(o *Options) { o.XDSAddr, o.TLS = "10.0.0.1:18000", &TLSFiles{CA: "/ca.pem"} },
			apiType: corev3.ApiConfigSource_GRPC, kind: clusterv3.Cluster_STATIC,
			tls: &tlsv3.UpstreamTlsContext{
				CommonTlsContext: &tlsv3.CommonTlsContext{
					TlsParams: &tlsv3.TlsParameters{
						TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
						TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
					},
					ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
						TrustedCa: file("/ca.pem"),
						MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
							SanType: tlsv3.SubjectAltNameMatcher_IP_ADDRESS,
							Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "10.0.0.1"}},
						}},
					}},
					AlpnProtocols: []string{"h2"},
				},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := base
			tc.opts(&o)
			b, err := Generate(o)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.GetNode(); got.GetId() != "gw-1" || got.GetCluster() != "edge" || labels.FromNode(got)["app"] != "gw" {
				t.Errorf("node = %v", got)
			}
			ads := b.GetDynamicResources().GetAdsConfig()
			if ads.GetApiType() != tc.apiType || !ads.GetSetNodeOnFirstMessageOnly() || ads.GetTransportApiVersion() != corev3.ApiVersion_V3 {
				t.Errorf("ads_config = %v", ads)
			}
			if b.GetDynamicResources().GetLdsConfig().GetAds() == nil || b.GetDynamicResources().GetCdsConfig().GetAds() == nil {
				t.Errorf("LDS and CDS must come from ADS: %v", b.GetDynamicResources())
			}
			xds := b.GetStaticResources().GetClusters()[0]
			if xds.GetType() != tc.kind {
				t.Errorf("xds cluster type = %v, want %v", xds.GetType(), tc.kind)
			}
			if _, ok := xds.GetTypedExtensionProtocolOptions()["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]; !ok {
				t.Error("xds cluster does not speak HTTP/2")
			}
			var got *tlsv3.UpstreamTlsContext
			if ts := xds.GetTransportSocket(); ts != nil {
				got = &tlsv3.UpstreamTlsContext{}
				if err := ts.GetTypedConfig().UnmarshalTo(got); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.tls, got, protocmp.Transform()); diff != "" {
				t.Errorf("xds cluster TLS (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantRuntime, b.GetLayeredRuntime(), protocmp.Transform()); diff != "" {
				t.Errorf("layered_runtime (-want +got):\n%s", diff)
			}
		})
	}
}

// wantRuntime raises the RE2 program size limit above Envoy's default of 100
// in a static layer, with the key spelled out (Envoy joins nested keys with
// dots; a flat dotted key is the same key).
var wantRuntime = &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{{
	Name: "static_layer",
	LayerSpecifier: &bootstrapv3.RuntimeLayer_StaticLayer{StaticLayer: &structpb.Struct{Fields: map[string]*structpb.Value{
		"re2.max_program_size.error_level": structpb.NewNumberValue(1000),
	}}},
}}}

func TestGenerateRejects(t *testing.T) {
	base := Options{NodeID: "gw-1", XDSAddr: "127.0.0.1:18000", AdminPort: 9901}
	tests := map[string]func(*Options){
		"no node ID":           func(o *Options) { o.NodeID = "" },
		"no port":              func(o *Options) { o.XDSAddr = "trustgate" },
		"port zero":            func(o *Options) { o.XDSAddr = "trustgate:0" },
		"port out of range":    func(o *Options) { o.XDSAddr = "trustgate:70000" },
		"no host":              func(o *Options) { o.XDSAddr = ":18000" },
		"admin port too large": func(o *Options) { o.AdminPort = 70000 },
		"TLS without a CA":     func(o *Options) { o.TLS = &TLSFiles{Cert: "c", Key: "k"} },
		"certificate, no key":  func(o *Options) { o.TLS = &TLSFiles{CA: "ca", Cert: "c"} },
		"key, no certificate":  func(o *Options) { o.TLS = &TLSFiles{CA: "ca", Key: "k"} },
		"empty label key":      func(o *Options) { o.Labels = map[string]string{"": "x"} },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			o := base
			edit(&o)
			_, err := Generate(o)
			if err == nil {
				t.Fatal("Generate accepted it")
			}
			if !errors.Is(err, ErrOptions) {
				t.Errorf("error %v is not ErrOptions", err)
			}
		})
	}
}

func TestYAMLIsDeterministic(t *testing.T) {
	o := files["bootstrap-sotw.yaml"]
	o.Labels = map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}
	first := ""
	for range 5 {
		b, err := Generate(o)
		if err != nil {
			t.Fatal(err)
		}
		y, err := YAML(b)
		if err != nil {
			t.Fatal(err)
		}
		if first == "" {
			first = string(y)
		} else if string(y) != first {
			t.Fatalf("YAML differs between runs:\n%s\n---\n%s", first, y)
		}
	}
}
