package refs_test

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/server/refs"
)

func TestCollect(t *testing.T) {
	pki, err := fixture.NewPKI(t.TempDir(), "ca", "gw.example.com", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	build := func(s fixture.Spec) ([]*listenerv3.Listener, []*clusterv3.Cluster) {
		s.PKI = pki
		r, err := fixture.Resources(s)
		if err != nil {
			t.Fatal(err)
		}
		return r.Listeners, r.Clusters
	}
	tests := map[string]struct {
		spec fixture.Spec
		edit func([]*listenerv3.Listener, []*clusterv3.Cluster)
		want refs.Refs
	}{
		"listener secrets and route": {
			spec: fixture.Spec{Prefixes: []string{"/"}},
			want: refs.Refs{Routes: []string{fixture.RouteName}, Endpoints: []string{}, Secrets: []string{fixture.CertSecret, fixture.CASecret}},
		},
		"EDS cluster with upstream client cert": {
			spec: fixture.Spec{Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true},
			want: refs.Refs{
				Routes:    []string{fixture.RouteName},
				Endpoints: []string{fixture.ClusterName},
				Secrets:   []string{fixture.CertSecret, fixture.CASecret, fixture.ClientSecret},
			},
		},
		"EDS service name wins over the cluster name": {
			spec: fixture.Spec{EDS: true},
			edit: func(_ []*listenerv3.Listener, cs []*clusterv3.Cluster) {
				cs[0].EdsClusterConfig.ServiceName = "svc"
			},
			want: refs.Refs{Routes: []string{fixture.RouteName}, Endpoints: []string{"svc"}, Secrets: []string{fixture.CertSecret, fixture.CASecret}},
		},
		"non-ADS sources are not ours": {
			spec: fixture.Spec{UpstreamClientCert: true},
			edit: func(_ []*listenerv3.Listener, cs []*clusterv3.Cluster) {
				// A static secret from the bootstrap: no sds_config.
				ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
					TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "static"}},
				}}
				a, err := anypb.New(ctx)
				if err != nil {
					t.Fatal(err)
				}
				cs[0].TransportSocket.ConfigType = &corev3.TransportSocket_TypedConfig{TypedConfig: a}
			},
			want: refs.Refs{Routes: []string{fixture.RouteName}, Endpoints: []string{}, Secrets: []string{fixture.CertSecret, fixture.CASecret}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ls, cs := build(tc.spec)
			if tc.edit != nil {
				tc.edit(ls, cs)
			}
			got, err := refs.Collect(ls, cs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Collect (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCollectUnknownAny(t *testing.T) {
	l := &listenerv3.Listener{Name: "l", ListenerFilters: []*listenerv3.ListenerFilter{{
		Name:       "mystery",
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: "type.googleapis.com/not.a.Type"}},
	}}}
	if _, err := refs.Collect([]*listenerv3.Listener{l}, nil); err == nil {
		t.Fatal("Collect accepted an Any of an unknown type; a reference inside it would go unseen")
	}
}
