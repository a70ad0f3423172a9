package refs_test

import (
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/server/refs"
	"github.com/trustgate/trustgate/xds/translate"
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
	memo := refs.NewMemo() // one for every case, used twice per case
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
			for _, round := range []string{"cold", "warm"} {
				got, err := memo.Collect(ls, cs)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Memo.Collect, %s (-want +got):\n%s", round, diff)
				}
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

// TestMemoByIdentity: the memo keeps references by message, filter chains
// each on their own: a new listener holding a known chain and a new one
// takes the known chain from the memo (seen here by changing that chain in
// place, which the server never does) and walks the new one; a failed walk
// is not kept; Commit drops what the last call did not use.
func TestMemoByIdentity(t *testing.T) {
	r := oneRouteResources(t)
	l := r.Listeners[0]
	known := l.GetFilterChains()[0]
	memo := refs.NewMemo()
	first, err := memo.Collect(r.Listeners, nil)
	if err != nil {
		t.Fatal(err)
	}
	memo.Commit()

	// The same chain in a new listener, with a second chain naming another
	// route configuration.
	second := proto.Clone(known).(*listenerv3.FilterChain)
	second.Name = "second"
	hcm := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
		RouteConfigName: "other-routes",
		ConfigSource:    &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}},
	}}}
	a, err := anypb.New(hcm)
	if err != nil {
		t.Fatal(err)
	}
	second.Filters = []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}}
	next := &listenerv3.Listener{Name: l.GetName(), FilterChains: []*listenerv3.FilterChain{known, second}}
	// Changed in place: the memo still has what it found in it.
	for _, f := range known.GetFilters() {
		f.ConfigType = nil
	}
	got, err := memo.Collect([]*listenerv3.Listener{next}, nil)
	if err != nil {
		t.Fatal(err)
	}
	routes := append([]string{"other-routes"}, first.Routes...)
	slices.Sort(routes)
	want := refs.Refs{Routes: routes, Endpoints: []string{}, Secrets: first.Secrets}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Memo.Collect (-want +got):\n%s", d)
	}
	if fresh, err := refs.Collect([]*listenerv3.Listener{next}, nil); err != nil || cmp.Equal(fresh, got) {
		t.Fatalf("Collect = %v, %v: the test's in-place change should show without the memo", fresh, err)
	}

	// Committed with only next and its chains used: the old listener is
	// walked again, and finds the changed chain.
	memo.Commit()
	memo.Commit()
	again, err := memo.Collect(r.Listeners, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Routes) != 0 {
		t.Errorf("after two commits without it, the memo still answered for the old chain: %v", again)
	}

	// A walk that fails is not kept.
	bad := &listenerv3.Listener{Name: "bad", ListenerFilters: []*listenerv3.ListenerFilter{{
		Name: "mystery", ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: "type.googleapis.com/not.a.Type"}},
	}}}
	for range 2 {
		if _, err := memo.Collect([]*listenerv3.Listener{bad}, nil); err == nil {
			t.Fatal("an unknown typed config was accepted")
		}
	}
}

// TestMemoKeepsChainsOfAKnownListener: a reload that finds a listener in
// the memo keeps its filter chains too, so that when the listener changes
// later (a host added), only the new chain is walked, not every chain
// again.
func TestMemoKeepsChainsOfAKnownListener(t *testing.T) {
	r := oneRouteResources(t)
	l := r.Listeners[0]
	memo := refs.NewMemo()
	for range 3 { // walked, then found twice
		if _, err := memo.Collect(r.Listeners, nil); err != nil {
			t.Fatal(err)
		}
		memo.Commit()
	}
	added := proto.Clone(l.GetFilterChains()[0]).(*listenerv3.FilterChain)
	added.Name = "added"
	next := &listenerv3.Listener{Name: l.GetName(), FilterChains: append(slices.Clone(l.GetFilterChains()), added)}
	before := memo.Stats().Misses
	if _, err := memo.Collect([]*listenerv3.Listener{next}, nil); err != nil {
		t.Fatal(err)
	}
	if got := memo.Stats().Misses - before; got != 2 {
		t.Errorf("%d messages walked, want 2 (the new listener and its new chain; %d chains were known)", got, len(l.GetFilterChains()))
	}
}

// oneRouteResources are the fixture's resources for one route on "/".
func oneRouteResources(t *testing.T) *translate.Resources {
	t.Helper()
	pki, err := fixture.NewPKI(t.TempDir(), "ca", "gw.example.com", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	r, err := fixture.Resources(fixture.Spec{PKI: pki, Prefixes: []string{"/"}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
