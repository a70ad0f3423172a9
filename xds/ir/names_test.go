package ir

import (
	"fmt"
	"math"
	"testing"
)

// TestNamesAsSprintf: names are built by concatenation for speed; they must
// stay what the fmt forms gave, or every resource's name (and version)
// would change under running proxies.
func TestNamesAsSprintf(t *testing.T) {
	for _, port := range []uint32{0, 7, 443, 8443, 65535, math.MaxUint32} {
		for _, s := range []string{"", "ns/gw/0", "a|b", "%d"} {
			checks := map[string][2]string{
				"ChainName":           {ChainName(port, s), fmt.Sprintf("%d/%s", port, s)},
				"RouteConfigName":     {RouteConfigName(port, s), fmt.Sprintf("https.%d.%s", port, s)},
				"HTTPRouteConfigName": {HTTPRouteConfigName(port), fmt.Sprintf("http.%d", port)},
				"ListenerName":        {ListenerName(port), fmt.Sprintf("listener_%d", port)},
				"ClusterName":         {ClusterName(s, port, s+"x"), fmt.Sprintf("outbound|%d|%s|%s", port, s+"x", s)},
			}
			for name, c := range checks {
				if c[0] != c[1] {
					t.Errorf("%s(%d, %q) = %q, want %q", name, port, s, c[0], c[1])
				}
			}
		}
	}
}
