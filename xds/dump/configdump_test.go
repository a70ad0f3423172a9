package dump

import (
	"strings"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/trustgate/trustgate/xds/translate"
)

// TestConfigDumpReadsBack parses the JSON output as an admin.v3.ConfigDump,
// as a tool reading Envoy's /config_dump would, and finds every translated
// resource in it, unchanged but for the redacted keys, in Envoy's order.
func TestConfigDumpReadsBack(t *testing.T) {
	r := rich(t)
	out, err := ConfigDumpJSON(r, true)
	if err != nil {
		t.Fatalf("ConfigDumpJSON: %v", err)
	}
	var d adminv3.ConfigDump
	if err := protojson.Unmarshal(out, &d); err != nil {
		t.Fatalf("not an admin.v3.ConfigDump: %v", err)
	}
	var types []string
	for _, c := range d.GetConfigs() {
		types = append(types, c.GetTypeUrl())
	}
	wantTypes := []string{
		"type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
		"type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
		"type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
		"type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
		"type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Fatalf("config types (-want +got):\n%s", diff)
	}
	got := &translate.Resources{}
	unpack(t, d.Configs[0], &adminv3.ClustersConfigDump{}, func(m proto.Message) {
		for _, c := range m.(*adminv3.ClustersConfigDump).GetDynamicActiveClusters() {
			got.Clusters = append(got.Clusters, unpackAs[*clusterv3.Cluster](t, c.GetCluster()))
		}
	})
	unpack(t, d.Configs[2], &adminv3.ListenersConfigDump{}, func(m proto.Message) {
		for _, l := range m.(*adminv3.ListenersConfigDump).GetDynamicListeners() {
			lis := unpackAs[*listenerv3.Listener](t, l.GetActiveState().GetListener())
			if l.GetName() != lis.GetName() {
				t.Errorf("dynamic listener %q holds listener %q", l.GetName(), lis.GetName())
			}
			got.Listeners = append(got.Listeners, lis)
		}
	})
	unpack(t, d.Configs[4], &adminv3.SecretsConfigDump{}, func(m proto.Message) {
		for _, s := range m.(*adminv3.SecretsConfigDump).GetDynamicActiveSecrets() {
			sec := unpackAs[*tlsv3.Secret](t, s.GetSecret())
			if s.GetName() != sec.GetName() {
				t.Errorf("dynamic secret %q holds secret %q", s.GetName(), sec.GetName())
			}
			got.Secrets = append(got.Secrets, sec)
		}
	})
	want := &translate.Resources{Clusters: r.Clusters, Listeners: r.Listeners, Secrets: r.Secrets}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("resources read back (-want +got):\n%s", diff)
	}
}

func unpack(t *testing.T, a interface{ UnmarshalTo(proto.Message) error }, m proto.Message, use func(proto.Message)) {
	t.Helper()
	if err := a.UnmarshalTo(m); err != nil {
		t.Fatal(err)
	}
	use(m)
}

func unpackAs[T proto.Message](t *testing.T, a interface{ UnmarshalNew() (proto.Message, error) }) T {
	t.Helper()
	m, err := a.UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := m.(T)
	if !ok {
		t.Fatalf("got %T", m)
	}
	return v
}

// TestConfigDumpEmpty has every type's dump, empty.
func TestConfigDumpEmpty(t *testing.T) {
	d, err := ConfigDump(&translate.Resources{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.GetConfigs()) != 5 {
		t.Errorf("%d configs, want 5", len(d.GetConfigs()))
	}
}

// TestRenderLayouts checks that every layout and format renders, and that
// an unknown layout is refused.
func TestRenderLayouts(t *testing.T) {
	tests := map[string]struct {
		layout, format string
		wantIn         string
		wantErr        bool
	}{
		"default is the config dump": {layout: "", format: "json", wantIn: `"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"`},
		"config dump as YAML":        {layout: "config-dump", format: "yaml", wantIn: "'@type': type.googleapis.com/envoy.admin.v3.ListenersConfigDump"},
		"resources":                  {layout: "resources", format: "json", wantIn: `"listeners": [`},
		"resources as YAML":          {layout: "resources", format: "yaml", wantIn: "listeners:\n"},
		"unknown layout":             {layout: "istio", format: "json", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, err := ParseLayout(tc.layout)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseLayout(%q) error = %v, want error %v", tc.layout, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			out, err := Render(rich(t), l, tc.format, false)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), tc.wantIn) {
				t.Errorf("output lacks %q:\n%.600s", tc.wantIn, out)
			}
		})
	}
}
