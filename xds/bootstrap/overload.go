package bootstrap

import (
	"fmt"
	"math"
	"time"

	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	downstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Defaults of the overload manager, from Envoy's "Configuring Envoy as an
// edge proxy" page (docs/root/configuration/best_practices/_include/
// edge.yaml): tune the heap to the proxy's memory limit.
const (
	DefaultMaxHeapBytes   = 2 << 30 // 2 GiB
	DefaultMaxConnections = 50000
)

// Resource monitor names. The connection monitor replaces the deprecated
// runtime key overload.global_downstream_max_connections; without either,
// Envoy warns at start that downstream connections are unlimited
// (source/server/server.cc).
const (
	heapMonitor        = "envoy.resource_monitors.fixed_heap"
	connectionsMonitor = "envoy.resource_monitors.global_downstream_max_connections"
)

// overloadManager protects Envoy from running out of memory and
// connections: it shrinks the heap at 95% of MaxHeapBytes, answers new
// requests with 503 at 98%, and refuses downstream connections beyond
// MaxConnections.
func overloadManager(o Options) (*overloadv3.OverloadManager, error) {
	heap, conns := o.MaxHeapBytes, o.MaxConnections
	if heap == 0 {
		heap = DefaultMaxHeapBytes
	}
	if conns == 0 {
		conns = DefaultMaxConnections
	}
	if conns > math.MaxInt64 {
		return nil, fmt.Errorf("%w: max connections %d out of range", ErrOptions, conns)
	}
	heapMon, err := resourceMonitor(heapMonitor, &fixedheapv3.FixedHeapConfig{MaxHeapSizeBytes: heap})
	if err != nil {
		return nil, err
	}
	connMon, err := resourceMonitor(connectionsMonitor, &downstreamv3.DownstreamConnectionsConfig{MaxActiveDownstreamConnections: int64(conns)})
	if err != nil {
		return nil, err
	}
	return &overloadv3.OverloadManager{
		RefreshInterval:  durationpb.New(250 * time.Millisecond),
		ResourceMonitors: []*overloadv3.ResourceMonitor{heapMon, connMon},
		Actions: []*overloadv3.OverloadAction{
			heapAction("envoy.overload_actions.shrink_heap", 0.95),
			heapAction("envoy.overload_actions.stop_accepting_requests", 0.98),
		},
	}, nil
}

// resourceMonitor packs a monitor's typed config.
func resourceMonitor(name string, cfg validatable) (*overloadv3.ResourceMonitor, error) {
	a, err := toAny(cfg)
	if err != nil {
		return nil, fmt.Errorf("resource monitor %s: %w", name, err)
	}
	return &overloadv3.ResourceMonitor{Name: name, ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: a}}, nil
}

// heapAction is an overload action that fires when heap use passes
// threshold (a fraction of the maximum).
func heapAction(name string, threshold float64) *overloadv3.OverloadAction {
	return &overloadv3.OverloadAction{Name: name, Triggers: []*overloadv3.Trigger{{
		Name:         heapMonitor,
		TriggerOneof: &overloadv3.Trigger_Threshold{Threshold: &overloadv3.ThresholdTrigger{Value: threshold}},
	}}}
}
