package translate

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// directResponseLimit is the max_direct_response_body_size_bytes a route
// configuration needs: unset while every direct-response body fits Envoy's
// default of 4096 bytes, else the largest body's size. Envoy rejects the
// whole route configuration for a larger body
// (ConfigUtility::parseDirectResponseBody, source/common/router/config_utility.cc);
// model caps bodies at Istio's 1 MiB, so the value stays bounded.
func directResponseLimit(rc *routev3.RouteConfiguration) *wrapperspb.UInt32Value {
	largest := 0
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			largest = max(largest, directResponseBodySize(r))
		}
	}
	if largest <= defaultMaxDirectResponseBody {
		return nil
	}
	return wrapperspb.UInt32(uint32(largest))
}
