package server

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/trustgate/trustgate/xds/server/internal/fixture"
	"github.com/trustgate/trustgate/xds/translate"
)

func testResources(t *testing.T, s fixture.Spec) *translate.Resources {
	t.Helper()
	if s.PKI == nil {
		p, err := fixture.NewPKI(t.TempDir(), "ca", "gw.example.com", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		s.PKI = p
	}
	r, err := fixture.Resources(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSnapshotVersions(t *testing.T) {
	base := testResources(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true})
	tests := map[string]struct {
		edit    func(*translate.Resources)
		changed []string // type URLs whose version must change; the others must not
	}{
		"same content": {edit: func(*translate.Resources) {}},
		"same content, other order": {edit: func(r *translate.Resources) {
			r.Secrets[0], r.Secrets[1] = r.Secrets[1], r.Secrets[0]
		}},
		"a route": {
			edit:    func(r *translate.Resources) { r.Routes[0].VirtualHosts[0].Domains = []string{"gw.example.com"} },
			changed: []string{resource.RouteType},
		},
		"a CRL": {
			edit: func(r *translate.Resources) {
				r.Secrets[1].GetValidationContext().GetCrl().Specifier = r.Secrets[0].GetTlsCertificate().GetCertificateChain().GetSpecifier()
			},
			changed: []string{resource.SecretType},
		},
		"a listener": {
			edit:    func(r *translate.Resources) { r.Listeners[0].StatPrefix = "edge" },
			changed: []string{resource.ListenerType},
		},
		"an endpoint": {
			edit: func(r *translate.Resources) {
				r.Endpoints[0].Endpoints[0].LbEndpoints[0].GetEndpoint().GetAddress().GetSocketAddress().Address = "10.0.0.9"
			},
			changed: []string{resource.EndpointType},
		},
	}
	want, err := buildSnapshot("", base, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := fixture.Clone(base)
			tc.edit(r)
			got, err := buildSnapshot("", r, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range servedTypes {
				changed := got.versions[typ] != want.versions[typ]
				wantChanged := false
				for _, c := range tc.changed {
					wantChanged = wantChanged || c == typ
				}
				if changed != wantChanged {
					t.Errorf("%s version changed = %v, want %v", shortType(typ), changed, wantChanged)
				}
			}
		})
	}
}

func TestSnapshotEmptyTypesHaveVersions(t *testing.T) {
	s, err := buildSnapshot("", &translate.Resources{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range servedTypes {
		if s.versions[typ] == "" {
			t.Errorf("empty %s has no version: Envoy's first request would never be answered", shortType(typ))
		}
	}
}

// TestWireResources checks the marshal-once representation: its bytes
// decode to the original, and the cache's delta versions are those of the
// original message.
func TestWireResources(t *testing.T) {
	r := testResources(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true, UpstreamClientCert: true})
	s, err := buildSnapshot("", r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.served.ConstructVersionMap(); err != nil {
		t.Fatal(err)
	}
	originals := map[string][]types.Resource{
		resource.ListenerType: asResources(r.Listeners),
		resource.RouteType:    asResources(r.Routes),
		resource.ClusterType:  asResources(r.Clusters),
		resource.EndpointType: asResources(r.Endpoints),
	}
	for typ, rs := range originals {
		wire := s.served.GetResources(typ)
		if len(wire) != len(rs) {
			t.Fatalf("%s: %d wire resources, want %d", shortType(typ), len(wire), len(rs))
		}
		for _, orig := range rs {
			name := cache.GetResourceName(orig)
			w, ok := wire[name]
			if !ok {
				t.Fatalf("%s %q missing", shortType(typ), name)
			}
			b, err := cache.MarshalResource(w)
			if err != nil {
				t.Fatal(err)
			}
			back := orig.ProtoReflect().New().Interface()
			if err := proto.Unmarshal(b, back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(orig, back, protocmp.Transform()); diff != "" {
				t.Errorf("%s %q round trip (-orig +wire):\n%s", shortType(typ), name, diff)
			}
			ob, err := cache.MarshalResource(orig)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := s.served.GetVersionMap(typ)[name], cache.HashResource(ob); got != want {
				t.Errorf("%s %q delta version %s, want %s", shortType(typ), name, got, want)
			}
		}
	}
}

func TestSnapshotRejects(t *testing.T) {
	tests := map[string]struct {
		edit func(*translate.Resources)
		is   error
	}{
		"missing route configuration": {edit: func(r *translate.Resources) { r.Routes = nil }, is: ErrInconsistent},
		"unreferenced route configuration": {edit: func(r *translate.Resources) {
			extra := proto.Clone(r.Routes[0]).(*routev3.RouteConfiguration)
			extra.Name = "orphan"
			r.Routes = append(r.Routes, extra)
		}, is: ErrInconsistent},
		"missing endpoints": {edit: func(r *translate.Resources) { r.Endpoints = nil }, is: ErrInconsistent},
		"unreferenced endpoints": {edit: func(r *translate.Resources) {
			extra := proto.Clone(r.Endpoints[0]).(*endpointv3.ClusterLoadAssignment)
			extra.ClusterName = "orphan"
			r.Endpoints = append(r.Endpoints, extra)
		}, is: ErrInconsistent},
		"missing secret": {edit: func(r *translate.Resources) { r.Secrets = r.Secrets[:1] }, is: ErrInconsistent},
		"unreferenced secret": {edit: func(r *translate.Resources) {
			extra := proto.Clone(r.Secrets[0]).(*tlsv3.Secret)
			extra.Name = "kubernetes://default/unused"
			r.Secrets = append(r.Secrets, extra)
		}, is: ErrInconsistent},
		"duplicate cluster": {edit: func(r *translate.Resources) {
			r.Clusters = append(r.Clusters, proto.Clone(r.Clusters[0]).(*clusterv3.Cluster))
		}},
		"unnamed listener": {edit: func(r *translate.Resources) {
			r.Listeners = append(r.Listeners, &listenerv3.Listener{})
		}},
	}
	base := testResources(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true})
	// Once without encodings, and once with encodings that have seen the
	// good resources: the edits change only which messages are listed, so
	// every unchanged message then comes from the memo.
	warm := newEncodings()
	if _, err := buildSnapshot("", base, warm); err != nil {
		t.Fatal(err)
	}
	for name, tc := range tests {
		for _, enc := range []*encodings{nil, warm} {
			t.Run(fmt.Sprintf("%s/encodings=%v", name, enc != nil), func(t *testing.T) {
				r := &translate.Resources{
					Listeners: slices.Clone(base.Listeners), Routes: slices.Clone(base.Routes),
					Clusters: slices.Clone(base.Clusters), Endpoints: slices.Clone(base.Endpoints),
					Secrets: slices.Clone(base.Secrets),
				}
				tc.edit(r)
				_, err := buildSnapshot("", r, enc)
				if err == nil {
					t.Fatal("buildSnapshot accepted it")
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("error %v, want errors.Is %v", err, tc.is)
				}
			})
		}
	}
	if _, err := buildSnapshot("", nil, nil); err == nil {
		t.Error("buildSnapshot(nil) succeeded")
	}
}

// TestEncodingsChangeNothing: snapshots built with encodings kept across
// reloads serve the same versions (hashes of the same bytes) and names as
// snapshots built afresh, through edits, a return to an earlier state and
// a failed build between them.
func TestEncodingsChangeNothing(t *testing.T) {
	base := testResources(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true})
	edited := &translate.Resources{
		Listeners: base.Listeners, Clusters: base.Clusters, Endpoints: base.Endpoints, Secrets: base.Secrets,
	}
	for _, rc := range base.Routes {
		rc = proto.Clone(rc).(*routev3.RouteConfiguration)
		rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{Name: "added", Domains: []string{"added.example.com"}})
		edited.Routes = append(edited.Routes, rc)
	}
	broken := &translate.Resources{Listeners: base.Listeners, Clusters: base.Clusters, Endpoints: base.Endpoints}
	enc := newEncodings()
	for i, r := range []*translate.Resources{base, edited, broken, base, edited} {
		want, wantErr := buildSnapshot("", r, nil)
		got, err := buildSnapshot("", r, enc)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("step %d: error %v with encodings, %v without", i, err, wantErr)
		}
		if err != nil {
			enc.abort()
			continue
		}
		enc.commit()
		if d := cmp.Diff(want.versions, got.versions); d != "" {
			t.Errorf("step %d: versions (-afresh +with encodings):\n%s", i, d)
		}
		if d := cmp.Diff(want.names, got.names); d != "" {
			t.Errorf("step %d: names (-afresh +with encodings):\n%s", i, d)
		}
	}
	if want, got := mustSnapshot(t, base).versions, mustSnapshot(t, edited).versions; cmp.Equal(want, got) {
		t.Fatal("the edit changed no version: the test proves nothing")
	}
}

func mustSnapshot(t *testing.T, r *translate.Resources) *snapshot {
	t.Helper()
	s, err := buildSnapshot("", r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUncheckedReloadKeepsReferences: a reload of the very messages of the
// group's last snapshot skips the checks, but keeps their references in the
// memo, so that a later change to the listener walks only what changed.
func TestUncheckedReloadKeepsReferences(t *testing.T) {
	base := testResources(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true})
	enc := newEncodings()
	for range 3 { // checked, then taken as checked twice
		r := *base
		if _, err := buildSnapshot("g", &r, enc); err != nil {
			t.Fatal(err)
		}
		enc.commit()
	}
	l := proto.Clone(base.Listeners[0]).(*listenerv3.Listener)
	l.FilterChains = base.Listeners[0].FilterChains // the same chains, in a new listener
	l.StatPrefix = "edited"
	r := *base
	r.Listeners = []*listenerv3.Listener{l}
	before := enc.refs.Stats().Misses
	if _, err := buildSnapshot("g", &r, enc); err != nil {
		t.Fatal(err)
	}
	if got := enc.refs.Stats().Misses - before; got != 1 {
		t.Errorf("%d messages walked, want 1 (the new listener; its %d chains were known)", got, len(l.FilterChains))
	}
}

// TestRefsReuseNeedsListenersAndClusters: a group's references are taken
// from its last reload only when both its listeners and its clusters are
// the very same messages: with the listeners unchanged, an EDS cluster
// added whose endpoints are not defined is still rejected.
func TestRefsReuseNeedsListenersAndClusters(t *testing.T) {
	base := testResources(t, fixture.Spec{Prefixes: []string{"/"}, EDS: true})
	enc := newEncodings()
	if _, err := buildSnapshot("g", base, enc); err != nil {
		t.Fatal(err)
	}
	enc.commit()
	extra := proto.Clone(base.Clusters[0]).(*clusterv3.Cluster)
	extra.Name = "extra"
	extra.GetEdsClusterConfig().ServiceName = "extra"
	r := *base
	r.Clusters = append(slices.Clone(base.Clusters), extra)
	if _, err := buildSnapshot("g", &r, enc); !errors.Is(err, ErrInconsistent) {
		t.Errorf("error %v, want ErrInconsistent (endpoints of cluster %q not defined)", err, extra.Name)
	}
}
