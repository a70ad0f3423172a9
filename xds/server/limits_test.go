package server_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/internal/fixture"
)

// TestLargeResponse serves a route configuration larger than 4 MiB, the
// receive limit gRPC clients default to (Envoy has none): nothing on the
// server's side stops it.
func TestLargeResponse(t *testing.T) {
	prefixes := make([]string, 6000)
	for i := range prefixes {
		prefixes[i] = "/" + strings.Repeat("p", 1000) + "/" + strings.Repeat("x", i%7)
	}
	h := newHarness(t, fixture.Spec{Prefixes: prefixes})
	h.start(h.options())
	e := h.envoy(envoytest.Options{DialOptions: []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)), // Envoy has no limit of its own
	}})
	v, err := e.WaitComplete(timeout)
	if err != nil {
		t.Fatal(err)
	}
	rc := v.Routes[fixture.RouteName]
	if n := len(rc.GetVirtualHosts()[0].GetRoutes()); n != len(prefixes) {
		t.Fatalf("%d routes, want %d", n, len(prefixes))
	}
	for _, r := range e.Responses() {
		if r.TypeURL == envoytest.RouteType && r.NACK != "" {
			t.Fatalf("route response NACKed: %s", r.NACK)
		}
	}
	if size := proto.Size(rc); size <= 4<<20 {
		t.Fatalf("the route configuration is %d bytes; the test needs more than 4 MiB", size)
	}
}
