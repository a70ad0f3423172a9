package main

import (
	"fmt"
	"io"
	"maps"
	"strings"
	"text/tabwriter"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/trustgate/trustgate/internal/scalecfg"
)

// typeURLs maps /debug/reload's short type names to type URLs.
var typeURLs = map[string]string{
	"listener": resource.ListenerType,
	"route":    resource.RouteType,
	"cluster":  resource.ClusterType,
	"endpoint": resource.EndpointType,
	"secret":   resource.SecretType,
}

// groupLabels are the clients' node labels: the workload's one group.
func groupLabels() map[string]string { return maps.Clone(scalecfg.Selector) }

// short abbreviates versions for messages.
func short(versions map[string]string) map[string]string {
	out := map[string]string{}
	for t, v := range versions {
		out[t[strings.LastIndex(t, ".")+1:]] = v[:min(len(v), 12)]
	}
	return out
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// text prints the report as a table.
func (r *report) text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s ADS, %d hosts, %d clients (%d connecting at once)\n", r.Protocol, r.Hosts, r.Clients, r.Parallel)
	fmt.Fprintf(tw, "connect\tall %.0f ms\tper client p50 %.0f p90 %.0f p99 %.0f max %.0f ms\tserver CPU %.0f ms\t%.1f MiB sent\tclients CPU %.0f ms\n",
		r.ConnectMs, r.Connect.P50, r.Connect.P90, r.Connect.P99, r.Connect.Max, r.ConnectCPUMs, mib(r.ConnectBytes), r.ConnectClientsCPUMs)
	pages := "4 KiB pages"
	if r.ClientsHugePages {
		pages = "huge pages"
	}
	fmt.Fprintf(tw, "page faults\tserver %d\tclients %d\tclients' peak RSS %.1f MiB (%s)\n", r.ConnectFaults, r.ConnectClientsFaults, mib(r.ClientsPeakRSS), pages)
	fmt.Fprintf(tw, "server RSS\tbefore %.1f MiB\tconnected %.1f MiB\tpeak %.1f MiB\t%.1f KiB per client\n",
		mib(r.RSSBefore), mib(r.RSSConnected), mib(r.RSSPeak), r.RSSPerClientKiB)
	if r.RSSSettled > 0 {
		fmt.Fprintf(tw, "server RSS settled\tafter %.1f s\t%.1f MiB\t\t%.1f KiB per client\n",
			r.RSSSettledAfterMs/1000, mib(r.RSSSettled), r.RSSSettledPerClientKiB)
	}
	if r.HeapConnected > 0 {
		fmt.Fprintf(tw, "server heap after GC	before %.1f MiB	connected %.1f MiB		%.1f KiB per client\n",
			mib(r.HeapBefore), mib(r.HeapConnected), r.HeapPerClientKiB)
	}
	if x := r.Restart; x != nil {
		fmt.Fprintf(tw, "restart\texit to ready %.0f ms\tresumed %d/%d, from ready p50 %.0f p90 %.0f p99 %.0f max %.0f ms\t%d streams counted after %.0f ms\t%.2f MiB sent\n",
			x.StartMs, x.Resumed, r.Clients, x.Resume.P50, x.Resume.P90, x.Resume.P99, x.Resume.Max, x.Streams, x.StreamsMs, mib(x.Bytes))
		fmt.Fprintf(tw, "restarted server\tCPU %.0f ms from its start\tRSS peak %.1f MiB, after %.1f MiB\tclients CPU %.0f ms\n",
			x.CPUMs, mib(x.RSSPeak), mib(x.RSS), x.ClientsCPUMs)
	}
	for i, c := range r.Changes {
		types := make([]string, len(c.Types))
		for j, t := range c.Types {
			types[j] = t[strings.LastIndex(t, ".")+1:]
		}
		fmt.Fprintf(tw, "change %d (%s: %s)\tfrom write p50 %.0f p99 %.0f max %.0f ms\tfrom reload p50 %.0f p99 %.0f max %.0f ms\treload %.1f ms\tserver CPU %.0f ms, %d faults\t%.2f MiB sent\n",
			i+1, c.Change, strings.Join(types, ","), c.FromWrite.P50, c.FromWrite.P99, c.FromWrite.Max,
			c.FromReload.P50, c.FromReload.P99, c.FromReload.Max, c.ReloadMs, c.CPUMs, c.Faults, mib(c.Bytes))
	}
	return tw.Flush()
}
