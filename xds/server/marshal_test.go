package server

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
)

// TestTypeReuseNeedsEveryMessage: a type's earlier marshal is reused only
// for the very list it was made of. A list of the same type and length,
// starting with the same message but differing further on (one host's route
// edited), must be served its own bytes and version, as marshalled afresh.
func TestTypeReuseNeedsEveryMessage(t *testing.T) {
	rc := func(name, domain string) types.Resource {
		return &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{{Name: name, Domains: []string{domain}}}}
	}
	first := []types.Resource{rc("a", "a.example.com"), rc("b", "b.example.com"), rc("c", "c.example.com")}
	tests := map[string]struct {
		next func() []types.Resource
	}{
		"the same list":           {next: func() []types.Resource { return first }},
		"the same messages":       {next: func() []types.Resource { return append([]types.Resource(nil), first...) }},
		"a middle message edited": {next: func() []types.Resource { return []types.Resource{first[0], rc("b", "b2.example.com"), first[2]} }},
		"the last message edited": {next: func() []types.Resource { return []types.Resource{first[0], first[1], rc("c", "c2.example.com")} }},
		"a message renamed":       {next: func() []types.Resource { return []types.Resource{first[0], rc("d", "b.example.com"), first[2]} }},
		"a message added": {next: func() []types.Resource {
			return append([]types.Resource{first[0], first[1], first[2]}, rc("0", "0.example.com"))
		}},
		"a message removed": {next: func() []types.Resource { return []types.Resource{first[0], first[2]} }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			enc := newEncodings()
			last, err := marshalType(resource.RouteType, first, nil, enc)
			if err != nil {
				t.Fatal(err)
			}
			next := tc.next()
			got, err := marshalType(resource.RouteType, next, last, enc)
			if err != nil {
				t.Fatal(err)
			}
			want, err := marshalType(resource.RouteType, next, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.res.Version != want.res.Version {
				t.Errorf("version %s, want %s (marshalled afresh)", got.res.Version, want.res.Version)
			}
			if d := cmp.Diff(want.sorted, got.sorted); d != "" {
				t.Errorf("names (-afresh +reused):\n%s", d)
			}
			for name, w := range want.res.Items {
				g, ok := got.res.Items[name]
				if !ok {
					t.Errorf("%q missing", name)
					continue
				}
				if string(wireBytes(g.Resource)) != string(wireBytes(w.Resource)) {
					t.Errorf("%q: stale bytes", name)
				}
			}
			if len(got.res.Items) != len(want.res.Items) {
				t.Errorf("%d resources, want %d", len(got.res.Items), len(want.res.Items))
			}
		})
	}
}

func wireBytes(r types.Resource) []byte { return r.(wireResource).ProtoReflect().GetUnknown() }

// TestMarshalTypeFirstFailureByName: marshalType walks the list as given,
// but reports, of several resources that do not marshal, the first in name
// order (as it did when it marshalled in name order).
func TestMarshalTypeFirstFailureByName(t *testing.T) {
	bad := func(name string) types.Resource { // proto3 strings must be UTF-8
		return &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{{Name: "\xff"}}}
	}
	rs := []types.Resource{bad("z"), &routev3.RouteConfiguration{Name: "a"}, bad("b"), bad("y")}
	_, err := marshalType(resource.RouteType, rs, nil, nil)
	if err == nil {
		t.Fatal("marshalled invalid UTF-8")
	}
	if got, want := err.Error(), `"b": `; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("error %q, want it to name %q first", got, "b")
	}
}
