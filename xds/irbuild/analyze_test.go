package irbuild

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trustgate/trustgate/model"
)

func TestUnservedHosts(t *testing.T) {
	gw := &model.Gateway{
		Object: model.Object{Kind: "Gateway", Metadata: model.ObjectMeta{Name: "gw", Namespace: "edge"}},
		Spec: model.GatewaySpec{Servers: []model.Server{
			{Hosts: []string{"*.example.com"}},
			{Hosts: []string{"ops/admin.internal"}},
		}},
	}
	vs := func(ns string, hosts ...string) *model.VirtualService {
		return &model.VirtualService{
			Object: model.Object{Kind: "VirtualService", Metadata: model.ObjectMeta{Name: "vs", Namespace: ns}, Pos: model.Position{File: "vs.yaml", Line: 1}},
			Spec:   model.VirtualServiceSpec{Hosts: hosts, Gateways: []string{"edge/gw"}},
		}
	}
	tests := map[string]struct {
		vs   *model.VirtualService
		want []string
	}{
		"covered by a wildcard server host": {vs: vs("edge", "api.example.com", "*.example.com")},
		"not covered":                       {vs: vs("edge", "api.example.org"), want: []string{`vs.yaml:1: VirtualService edge/vs: spec.hosts[0]: host "api.example.org" is not served by any server of gateways edge/gw: no route is built for it`}},
		"namespace prefix admits ops only":  {vs: vs("edge", "admin.internal"), want: []string{`vs.yaml:1: VirtualService edge/vs: spec.hosts[0]: host "admin.internal" is not served by any server of gateways edge/gw: no route is built for it`}},
		"namespace prefix admits ops":       {vs: vs("ops", "admin.internal")},
		"a VirtualService host * binds":     {vs: vs("edge", "*")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := &model.Config{Gateways: []*model.Gateway{gw}, VirtualServices: []*model.VirtualService{tc.vs}}
			var got []string
			for _, e := range UnservedHosts(cfg) {
				if !e.Warning {
					t.Errorf("not a warning: %v", e)
				}
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// namedGateways is the index's reference: every Gateway tested against the
// VirtualService's gateways.
func namedGateways(cfg *model.Config, vs *model.VirtualService) []*model.Gateway {
	var out []*model.Gateway
	for _, gw := range cfg.Gateways {
		if refsGateway(vs.Spec.Gateways, vs.Metadata.Namespace, gw) {
			out = append(out, gw)
		}
	}
	return out
}

// TestGatewayIndex: the index finds the Gateways testing every one finds,
// in the same order, for every form of reference.
func TestGatewayIndex(t *testing.T) {
	gw := func(ns, name string) *model.Gateway {
		return &model.Gateway{Object: model.Object{Kind: "Gateway", Metadata: model.ObjectMeta{Name: name, Namespace: ns}}}
	}
	cfg := &model.Config{Gateways: []*model.Gateway{gw("edge", "b"), gw("edge", "a"), gw("ops", "a"), gw("edge", "b"), gw("default", "a")}}
	tests := map[string][]string{
		"none":                {},
		"mesh":                {"mesh"},
		"short name":          {"a"},
		"namespace/name":      {"ops/a"},
		"name.namespace.svc":  {"a.ops.svc.cluster.local"},
		"twice, out of order": {"b", "ops/a", "a", "edge/b"},
		"missing":             {"nope", "x/y"},
	}
	for name, refs := range tests {
		t.Run(name, func(t *testing.T) {
			vs := &model.VirtualService{Object: model.Object{Metadata: model.ObjectMeta{Namespace: "edge"}}, Spec: model.VirtualServiceSpec{Gateways: refs}}
			if d := cmp.Diff(namedGateways(cfg, vs), indexGateways(cfg).named(vs)); d != "" {
				t.Errorf("gateways (-every one tested +index):\n%s", d)
			}
		})
	}
}
