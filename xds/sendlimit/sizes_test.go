package sendlimit

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/translate"
)

// TestSizesMemo checks three loads through one memo against the sizes
// themselves: an unchanged resource (the same message) is sized once, and a
// resource built anew under the same name (a new message) gets its own
// size, never its predecessor's.
func TestSizesMemo(t *testing.T) {
	s := NewSizes()
	a := &clusterv3.Cluster{Name: "a"}
	b1 := &clusterv3.Cluster{Name: "b", AltStatName: "short"}
	b2 := &clusterv3.Cluster{Name: "b", AltStatName: strings.Repeat("long", 100)}
	for i, clusters := range [][]*clusterv3.Cluster{{a, b1}, {a, b2}, {a, b1}} {
		r := &translate.Resources{Clusters: clusters}
		got := items(r.Clusters, s)
		want := []Item{{"a", proto.Size(a)}, {"b", proto.Size(clusters[1])}}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("load %d: items (-want +got):\n%s", i, d)
		}
		s.Commit()
	}
	// b1, unused by the second load, was dropped by its Commit.
	if st := s.Stats(); st.Hits != 2 || st.Misses != 4 {
		t.Errorf("memo stats %+v, want 2 hits (a twice) and 4 misses (a, b1, b2, b1)", st)
	}
}
