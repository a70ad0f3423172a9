package translate

import (
	"errors"
	"fmt"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

// rich translates the rich fixture, failing the test on error.
func rich(t *testing.T) *Resources {
	t.Helper()
	r, err := Translate(translatetest.RichProxy())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	return r
}

// find returns the resource named name.
func find[T interface{ GetName() string }](t *testing.T, rs []T, name string) T {
	t.Helper()
	for _, r := range rs {
		if r.GetName() == name {
			return r
		}
	}
	t.Fatalf("no resource %q", name)
	var zero T
	return zero
}

// edit unpacks a typed config, lets f change it, and repacks it without
// validation (as a buggy producer would).
func edit[T proto.Message](t *testing.T, a *anypb.Any, f func(T)) {
	t.Helper()
	m, err := a.UnmarshalNew()
	if err != nil {
		t.Fatalf("unpack %s: %v", a.GetTypeUrl(), err)
	}
	f(m.(T))
	if err := a.MarshalFrom(m); err != nil {
		t.Fatalf("repack: %v", err)
	}
}

// hcmOf edits the HCM of a listener's first filter chain.
func hcmOf(t *testing.T, r *Resources, listener string, f func(*hcmv3.HttpConnectionManager)) {
	edit(t, find(t, r.Listeners, listener).GetFilterChains()[0].GetFilters()[0].GetTypedConfig(), f)
}

// tcpProxyOf edits the tcp_proxy of a listener's chain.
func tcpProxyOf(t *testing.T, r *Resources, listener string, chain int, f func(*tcpv3.TcpProxy)) {
	fs := find(t, r.Listeners, listener).GetFilterChains()[chain].GetFilters()
	edit(t, fs[len(fs)-1].GetTypedConfig(), f)
}

// firstRoute is the first route of the main HTTPS route configuration.
func firstRoute(t *testing.T, r *Resources, i int) *routev3.Route {
	return find(t, r.Routes, translatetest.HTTPSRoutes).GetVirtualHosts()[0].GetRoutes()[i]
}

func TestCheckRich(t *testing.T) {
	if err := Check(rich(t)); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		brk  func(*testing.T, *Resources)
		want []error
	}{
		"route to a missing cluster": {
			brk: func(t *testing.T, r *Resources) {
				firstRoute(t, r, 3).GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "nope"}
			},
			want: []error{ErrMissingCluster},
		},
		"weighted route to a missing cluster": {
			brk: func(t *testing.T, r *Resources) {
				firstRoute(t, r, 0).GetRoute().GetWeightedClusters().GetClusters()[1].Name = "nope"
			},
			want: []error{ErrMissingCluster},
		},
		"weighted clusters weighing nothing": {
			brk: func(t *testing.T, r *Resources) {
				for _, w := range firstRoute(t, r, 0).GetRoute().GetWeightedClusters().GetClusters() {
					w.Weight = wrapperspb.UInt32(0)
				}
			},
			want: []error{ErrWeights},
		},
		"tcp_proxy to a missing cluster": {
			brk: func(t *testing.T, r *Resources) {
				tcpProxyOf(t, r, "listener_6443", 0, func(p *tcpv3.TcpProxy) {
					p.ClusterSpecifier = &tcpv3.TcpProxy_Cluster{Cluster: "nope"}
				})
			},
			want: []error{ErrMissingCluster},
		},
		"weighted tcp_proxy to a missing cluster": {
			brk: func(t *testing.T, r *Resources) {
				tcpProxyOf(t, r, "listener_443", 2, func(p *tcpv3.TcpProxy) {
					p.GetWeightedClusters().GetClusters()[0].Name = "nope"
				})
			},
			want: []error{ErrMissingCluster},
		},
		"HCM with a missing route configuration": {
			brk: func(t *testing.T, r *Resources) {
				hcmOf(t, r, "listener_80", func(h *hcmv3.HttpConnectionManager) { h.GetRds().RouteConfigName = "nope" })
			},
			want: []error{ErrMissingRoute},
		},
		"listener with a missing secret": {
			brk: func(t *testing.T, r *Resources) {
				r.Secrets = r.Secrets[:2] // drops the gateway's certificate and CA
			},
			want: []error{ErrMissingSecret},
		},
		"cluster with a missing secret": {
			brk: func(t *testing.T, r *Resources) {
				cl := find(t, r.Clusters, translatetest.AppCluster)
				edit(t, cl.GetTransportSocket().GetTypedConfig(), func(u *tlsv3.UpstreamTlsContext) {
					u.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()[0].Name = "nope"
				})
			},
			want: []error{ErrMissingSecret},
		},
		"secret reference over another config source": {
			brk: func(t *testing.T, r *Resources) {
				cl := find(t, r.Clusters, translatetest.AppCluster)
				edit(t, cl.GetTransportSocket().GetTypedConfig(), func(u *tlsv3.UpstreamTlsContext) {
					u.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()[0].GetSdsConfig().InitialFetchTimeout = durationpb.New(0)
				})
			},
			want: []error{ErrSDSConfigSource},
		},
		"EDS cluster without a load assignment": {
			brk:  func(t *testing.T, r *Resources) { r.Endpoints = nil },
			want: []error{ErrMissingEndpoints},
		},
		"invalid route regex": {
			brk: func(t *testing.T, r *Resources) {
				firstRoute(t, r, 1).GetMatch().GetSafeRegex().Regex = "a(b"
			},
			want: []error{ErrRegex},
		},
		"invalid regex inside a typed config": {
			brk: func(t *testing.T, r *Resources) {
				hcmOf(t, r, "listener_443", func(h *hcmv3.HttpConnectionManager) {
					edit(t, h.GetHttpFilters()[1].GetTypedConfig(), func(rb *rbachttpv3.RBAC) {
						for _, p := range rb.GetRules().GetPolicies() {
							p.Principals = append(p.Principals, iState("k", &matcherv3.StringMatcher{
								MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "(?P<x"}},
							}))
						}
					})
				})
			},
			want: []error{ErrRegex},
		},
		"invalid typed config": {
			brk: func(t *testing.T, r *Resources) {
				hcmOf(t, r, "listener_80", func(h *hcmv3.HttpConnectionManager) { h.StatPrefix = "" })
			},
			want: []error{ErrInvalid},
		},
		"invalid resource": {
			brk: func(t *testing.T, r *Resources) {
				find(t, r.Clusters, translatetest.DBCluster).ConnectTimeout = durationpb.New(0)
			},
			want: []error{ErrInvalid},
		},
		"duplicate domain across virtual hosts": {
			brk: func(t *testing.T, r *Resources) {
				rc := find(t, r.Routes, translatetest.HTTPSRoutes)
				rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{
					Name: "other", Domains: []string{"API.example.com"},
					Routes: []*routev3.Route{{Match: prefixMatch("/"), Action: toCluster(translatetest.AppCluster)}},
				})
			},
			want: []error{ErrDuplicateDomain},
		},
		"invalid server names": {
			brk: func(t *testing.T, r *Resources) {
				find(t, r.Listeners, "listener_443").GetFilterChains()[0].GetFilterChainMatch().ServerNames = []string{"*", "a.*.com", "*a.com", "ok.com"}
			},
			want: []error{ErrServerName},
		},
		"two chains with the same match": {
			brk: func(t *testing.T, r *Resources) {
				fcs := find(t, r.Listeners, "listener_443").GetFilterChains()
				fcs[1].GetFilterChainMatch().ServerNames = []string{"other.example.com", "api.example.com"}
			},
			want: []error{ErrDuplicateMatch},
		},
		"duplicate and empty names": {
			brk: func(t *testing.T, r *Resources) {
				r.Clusters = append(r.Clusters, proto.Clone(r.Clusters[0]).(*clusterv3.Cluster))
				r.Listeners = append(r.Listeners, &listenerv3.Listener{})
			},
			want: []error{ErrDuplicateName, ErrEmptyName},
		},
		"every problem is reported, not the first only": {
			brk: func(t *testing.T, r *Resources) {
				r.Endpoints = nil
				firstRoute(t, r, 3).GetRoute().ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "nope"}
				firstRoute(t, r, 1).GetMatch().GetSafeRegex().Regex = "("
			},
			want: []error{ErrMissingEndpoints, ErrMissingCluster, ErrRegex},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := rich(t)
			tc.brk(t, r)
			err := Check(r)
			if err == nil {
				t.Fatal("Check passed a broken configuration")
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error does not wrap %q:\n%v", w, err)
				}
			}
			sameByParts(t, r)
		})
	}
}

// sameByParts fails unless each listener of r checked by parts (its chains
// walked apart, as Translate does) has the findings of the whole walk.
func sameByParts(t *testing.T, r *Resources) {
	t.Helper()
	text := func(fs []finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, fmt.Sprintf("%d %s %v", f.ref, f.name, f.error()))
		}
		return out
	}
	for _, l := range r.Listeners {
		var chains [][]finding
		for _, fc := range l.GetFilterChains() {
			chains = append(chains, checkChain(fc))
		}
		if d := cmp.Diff(text(checkListener(l)), text(checkListenerParts(l, chains))); d != "" {
			t.Errorf("listener %q: findings (-whole +by parts):\n%s", l.GetName(), d)
		}
	}
}

func TestCheckRichByParts(t *testing.T) { sameByParts(t, rich(t)) }

// TestTranslateRejects checks that Translate runs Check on its own output.
func TestTranslateRejects(t *testing.T) {
	p := translatetest.RichProxy()
	p.Secrets = p.Secrets[1:] // the gateway certificate is gone
	_, err := Translate(p)
	if !errors.Is(err, ErrMissingSecret) {
		t.Fatalf("Translate error = %v, want %v", err, ErrMissingSecret)
	}
}
