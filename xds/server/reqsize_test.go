package server_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/codes"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// TestRequestTooLarge refuses a request between the guard's limit (16 MiB)
// and gRPC's (32 MiB) with InvalidArgument naming its size, in each of the
// fields a large request carries: SotW names, delta subscriptions and a
// resuming delta client's initial_resource_versions. A request just under
// the limit is served.
func TestRequestTooLarge(t *testing.T) {
	const limit = 16 << 20
	big := func(n int) string { return strings.Repeat("r", n) }
	cases := []struct {
		name  string
		delta bool
		req   func(n int) any
	}{
		{"sotw names", false, func(n int) any {
			return &discoveryv3.DiscoveryRequest{TypeUrl: envoytest.ClusterType, ResourceNames: []string{big(n)}}
		}},
		{"delta subscribe", true, func(n int) any {
			return &discoveryv3.DeltaDiscoveryRequest{TypeUrl: envoytest.ClusterType, ResourceNamesSubscribe: []string{big(n)}}
		}},
		{"delta initial versions", true, func(n int) any {
			return &discoveryv3.DeltaDiscoveryRequest{TypeUrl: envoytest.ClusterType, InitialResourceVersions: map[string]string{"c": big(n)}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fixture.Spec{Prefixes: []string{"/"}})
			h.start(h.options())
			send := func(s adsStream, n int) error {
				if tc.delta {
					req := tc.req(n).(*discoveryv3.DeltaDiscoveryRequest)
					req.Node = node("gw-1", gateway)
					return s.delta.Send(req)
				}
				req := tc.req(n).(*discoveryv3.DiscoveryRequest)
				req.Node = node("gw-1", gateway)
				return s.sotw.Send(req)
			}
			s := openADS(t, h.addr, tc.delta, plaintext)
			if err := send(s, limit+1024); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			if st := s.ended(); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "over the limit of 16777216") {
				t.Fatalf("a request over 16 MiB: %v, want InvalidArgument naming the limit", st)
			}
			if got := h.counter(`trustgate_xds_denied_streams_total{reason="request_too_large"}`); got != 1 {
				t.Errorf("request_too_large refusals = %v, want 1", got)
			}
			ok := openADS(t, h.addr, tc.delta, plaintext)
			if err := send(ok, limit-1024); err != nil {
				t.Fatal(err)
			}
			// The stream lives on: a request for the listeners is answered.
			if err := ok.send(nil, envoytest.ListenerType); err != nil {
				t.Fatal(err)
			}
			for typ := ""; typ != envoytest.ListenerType; {
				var err error
				if typ, _, err = ok.recv(); err != nil {
					t.Fatalf("a request under 16 MiB, then one for the listeners: %v, want the listeners", err)
				}
			}
			if got := h.counter(`trustgate_xds_denied_streams_total{reason="request_too_large"}`); got != 1 {
				t.Errorf("request_too_large refusals after one under the limit = %v, want 1", got)
			}
		})
	}
}
