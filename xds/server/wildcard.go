package server

import (
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
)

// wildcardName is the explicit wildcard of the xDS protocol: a SotW request
// naming "*" (alone or with other names) asks for every resource of its type.
const wildcardName = "*"

// wholeType returns the request the caches should answer for a SotW
// request: the request itself, or, when it names the wildcard, a copy that
// names nothing, which both caches answer with every resource of the type.
//
// go-control-plane v0.14 takes the wildcard from the names into the
// stream's subscription (pkg/server/stream/v3, SetResourceSubscription) but
// answers from the request's names: the non-ADS cache (pkg/cache/v3/
// simple.go, createResponse) returns only resources whose names are listed,
// so "*" got none, and CreateWatch, seeing a wildcard subscription with
// resources not yet returned, answered again on every ACK: an SDS request
// naming "*" looped at network speed. The ADS cache (respond, "ADS mode:
// not responding") never answered a wildcard LDS or CDS request and dropped
// its watch. Answering the whole type makes the response match the
// subscription, so an ACK finds nothing new and parks the watch until the
// next change.
func wholeType(req *cache.Request, sub cache.Subscription) *cache.Request {
	if !sub.IsWildcard() || !slices.Contains(req.GetResourceNames(), wildcardName) {
		return req
	}
	whole := proto.Clone(req).(*cache.Request)
	whole.ResourceNames = nil
	return whole
}
