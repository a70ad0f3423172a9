package bootstrap

import (
	"testing"
	"time"

	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	downstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestOverloadManager checks the overload manager of Envoy's edge-proxy
// best practices: a heap bound with shrink_heap at 95% and
// stop_accepting_requests at 98%, and a global downstream connection limit.
func TestOverloadManager(t *testing.T) {
	tests := map[string]struct {
		heap, conns         uint64
		wantHeap, wantConns uint64
	}{
		"defaults":   {wantHeap: 2 << 30, wantConns: 50000},
		"configured": {heap: 512 << 20, conns: 2000, wantHeap: 512 << 20, wantConns: 2000},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := Generate(Options{NodeID: "gw", XDSAddr: "127.0.0.1:18000", MaxHeapBytes: tc.heap, MaxConnections: tc.conns})
			if err != nil {
				t.Fatal(err)
			}
			want := &overloadv3.OverloadManager{
				RefreshInterval: durationpb.New(250 * time.Millisecond),
				ResourceMonitors: []*overloadv3.ResourceMonitor{
					monitor(t, "envoy.resource_monitors.fixed_heap", &fixedheapv3.FixedHeapConfig{MaxHeapSizeBytes: tc.wantHeap}),
					monitor(t, "envoy.resource_monitors.global_downstream_max_connections",
						&downstreamv3.DownstreamConnectionsConfig{MaxActiveDownstreamConnections: int64(tc.wantConns)}),
				},
				Actions: []*overloadv3.OverloadAction{
					wantHeapAction("envoy.overload_actions.shrink_heap", 0.95),
					wantHeapAction("envoy.overload_actions.stop_accepting_requests", 0.98),
				},
			}
			if diff := cmp.Diff(want, b.GetOverloadManager(), protocmp.Transform()); diff != "" {
				t.Errorf("overload_manager (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOverloadManagerRejects(t *testing.T) {
	for name, o := range map[string]Options{
		"connections above int64": {MaxConnections: 1 << 63},
	} {
		t.Run(name, func(t *testing.T) {
			o.NodeID, o.XDSAddr = "gw", "127.0.0.1:18000"
			if _, err := Generate(o); err == nil {
				t.Fatal("Generate accepted it")
			}
		})
	}
}

// monitor is a resource monitor with its typed config.
func monitor(t *testing.T, name string, cfg proto.Message) *overloadv3.ResourceMonitor {
	t.Helper()
	a, err := anypb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &overloadv3.ResourceMonitor{Name: name, ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: a}}
}

// wantHeapAction is an overload action triggered by the heap monitor,
// spelled out.
func wantHeapAction(name string, threshold float64) *overloadv3.OverloadAction {
	return &overloadv3.OverloadAction{Name: name, Triggers: []*overloadv3.Trigger{{
		Name:         "envoy.resource_monitors.fixed_heap",
		TriggerOneof: &overloadv3.Trigger_Threshold{Threshold: &overloadv3.ThresholdTrigger{Value: threshold}},
	}}}
}
