package sendlimit

import (
	"fmt"
	"strings"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// responses builds the responses go-control-plane sends for these items
// (pkg/cache/v3/cache.go, GetDiscoveryResponse and
// GetDeltaDiscoveryResponse), with the longest version and nonce.
func responses(typeURL string, items []Item) (sotw, delta proto.Message) {
	version, nonce := strings.Repeat("f", maxVersion), strings.Repeat("9", maxNonce)
	s := &discoveryv3.DiscoveryResponse{VersionInfo: version, TypeUrl: typeURL, Nonce: nonce}
	d := &discoveryv3.DeltaDiscoveryResponse{SystemVersionInfo: version, TypeUrl: typeURL, Nonce: nonce}
	for _, it := range items {
		a := &anypb.Any{TypeUrl: typeURL, Value: make([]byte, it.Bytes)}
		s.Resources = append(s.Resources, a)
		d.Resources = append(d.Resources, &discoveryv3.Resource{Name: it.Name, Version: version, Resource: a})
	}
	return s, d
}

// TestResponseBytes compares the estimate with the size of the responses
// themselves, across the lengths where varints grow.
func TestResponseBytes(t *testing.T) {
	many := make([]Item, 1000)
	for i := range many {
		many[i] = Item{Name: fmt.Sprintf("listener_%d", i), Bytes: i * 37}
	}
	tests := map[string]struct {
		typeURL string
		items   []Item
	}{
		"none":            {typeURL: resource.ListenerType},
		"one small":       {typeURL: resource.SecretType, items: []Item{{Name: "kubernetes://edge/a", Bytes: 10}}},
		"varint edges":    {typeURL: resource.RouteType, items: []Item{{"a", 127}, {"b", 128}, {"c", 16383}, {"d", 16384}, {"e", 2097151}, {"f", 2097152}}},
		"empty resources": {typeURL: resource.ClusterType, items: []Item{{"x", 0}, {"", 0}}},
		"a thousand":      {typeURL: resource.EndpointType, items: many},
		"one of 3 MB":     {typeURL: resource.SecretType, items: []Item{{Name: "kubernetes://edge/ca", Bytes: 3 << 20}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sotw, delta := responses(tc.typeURL, tc.items)
			want := max(proto.Size(sotw), proto.Size(delta))
			// Exact, but for empty names and values, which protobuf leaves
			// out: 2 bytes each at most (tag and length) in a delta Resource.
			empties := 0
			for _, it := range tc.items {
				if it.Bytes == 0 {
					empties++
				}
				if it.Name == "" {
					empties++
				}
			}
			if got := ResponseBytes(tc.typeURL, tc.items); got < want || got > want+2*empties {
				t.Errorf("ResponseBytes = %d, the larger response is %d bytes (SotW %d, delta %d; %d empty fields)",
					got, want, proto.Size(sotw), proto.Size(delta), empties)
			}
		})
	}
}

// largestFitting is the size of the largest secret that fits alone.
func largestFitting() int {
	lo, hi := 0, Limit // ResponseBytes grows with the size
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if ResponseBytes(resource.SecretType, []Item{{"a", mid}}) <= Limit {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func TestCheckType(t *testing.T) {
	tests := map[string]struct {
		items   []Item
		wantErr string // "" when it fits
	}{
		"fits":                 {items: []Item{{"a", 10 << 20}, {"b", 10 << 20}}},
		"exactly at the limit": {items: []Item{{"a", largestFitting()}}},
		"a byte over the limit": {
			items:   []Item{{"a", largestFitting() + 1}},
			wantErr: `secret "a" is 66.1 MB: one resource must fit in one response`,
		},
		"one too large": {
			items:   []Item{{"small", 10}, {"kubernetes://edge/big-ca", 70_000_000}},
			wantErr: `secret "kubernetes://edge/big-ca" is 70.0 MB: one resource must fit in one response, and the server sends at most 64 MiB`,
		},
		"together too large": {
			items:   []Item{{"a", 30 << 20}, {"b", 20 << 20}, {"c", 14 << 20}, {"d", 1}},
			wantErr: `the 4 secret resources take 67.1 MB in one response, over the 64 MiB the server sends (1 MiB kept for the envelope); the largest: "a" (31.5 MB), "b" (21.0 MB), "c" (14.7 MB)`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := CheckType(resource.SecretType, tc.items)
			switch {
			case tc.wantErr == "" && o != nil:
				t.Fatalf("CheckType: %v, want it to fit", o)
			case tc.wantErr != "" && o == nil:
				t.Fatalf("CheckType: fits, want %q", tc.wantErr)
			case tc.wantErr != "" && !strings.HasPrefix(o.Error(), tc.wantErr):
				t.Errorf("CheckType:\n%s\nwant it to start with\n%s", o.Error(), tc.wantErr)
			}
		})
	}
}
