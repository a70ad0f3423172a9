package main

import (
	"context"
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
)

// runSotw speaks state-of-the-world ADS: wildcard CDS and LDS, then EDS,
// RDS and SDS for the names they reference, ACKing every response.
func (c *client) runSotw(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient, node *corev3.Node) error {
	s, err := ads.StreamAggregatedResources(ctx, grpc.ForceCodecV2(newClientCodec(c.refs)))
	if err != nil {
		return err
	}
	held := map[string][]heldResource{}
	version, nonce := map[string]string{}, map[string]string{}
	names := map[string][]string{}
	first := true
	send := func(t string) error {
		req := &discoveryv3.DiscoveryRequest{TypeUrl: t, VersionInfo: version[t], ResponseNonce: nonce[t], ResourceNames: names[t]}
		if first {
			req.Node, first = node, false // set_node_on_first_message_only
		}
		return s.Send(req)
	}
	for _, t := range wildcardTypes {
		if err := send(t); err != nil {
			return err
		}
	}
	for {
		var resp response
		if err := s.RecvMsg(&resp); err != nil {
			return err
		}
		t := resp.typeURL
		version[t], nonce[t] = resp.version, resp.nonce
		if err := send(t); err != nil { // the ACK
			return err
		}
		c.acked(t, resp.version, resp.size)
		if !slices.Contains(wildcardTypes, t) {
			continue // only listeners and clusters reference names
		}
		held[t] = resp.held
		want, err := followed(held)
		if err != nil {
			return err
		}
		for _, nt := range namedTypes {
			if len(want[nt]) == 0 || slices.Equal(want[nt], names[nt]) {
				continue
			}
			names[nt] = want[nt]
			if err := send(nt); err != nil {
				return err
			}
		}
	}
}

// runDelta speaks incremental ADS: wildcard CDS and LDS, then subscriptions
// to the names they reference, ACKing every response.
func (c *client) runDelta(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient, node *corev3.Node) error {
	s, err := ads.DeltaAggregatedResources(ctx, grpc.ForceCodecV2(newClientCodec(c.refs)))
	if err != nil {
		return err
	}
	held := map[string]map[string]*refEntry{}
	subscribed := map[string][]string{}
	first := true
	send := func(req *discoveryv3.DeltaDiscoveryRequest) error {
		if first {
			req.Node, first = node, false
		}
		return s.Send(req)
	}
	for _, t := range wildcardTypes {
		held[t] = map[string]*refEntry{}
		if err := send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t}); err != nil {
			return err
		}
	}
	for {
		resp := response{delta: true}
		if err := s.RecvMsg(&resp); err != nil {
			return err
		}
		t := resp.typeURL
		if err := send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResponseNonce: resp.nonce}); err != nil {
			return err
		}
		c.acked(t, resp.version, resp.size)
		h := held[t]
		if h == nil {
			continue // only listeners and clusters reference names
		}
		for _, r := range resp.held {
			h[r.name] = r.refs
		}
		for _, n := range resp.removed {
			delete(h, n)
		}
		want, err := followed(lists(held))
		if err != nil {
			return err
		}
		for _, nt := range namedTypes {
			add, remove := diff(subscribed[nt], want[nt])
			if len(add) == 0 && len(remove) == 0 {
				continue
			}
			subscribed[nt] = want[nt]
			if err := send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: nt, ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: remove}); err != nil {
				return err
			}
		}
	}
}

// diff returns the names of b not in a, and of a not in b; both sorted.
func diff(a, b []string) (added, removed []string) {
	for _, n := range b {
		if _, ok := slices.BinarySearch(a, n); !ok {
			added = append(added, n)
		}
	}
	for _, n := range a {
		if _, ok := slices.BinarySearch(b, n); !ok {
			removed = append(removed, n)
		}
	}
	return added, removed
}

// lists turns held resources by name into lists.
func lists(held map[string]map[string]*refEntry) map[string][]heldResource {
	out := map[string][]heldResource{}
	for t, m := range held {
		for _, name := range slices.Sorted(maps.Keys(m)) {
			out[t] = append(out[t], heldResource{name: name, refs: m[name]})
		}
	}
	return out
}
