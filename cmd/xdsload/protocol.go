package main

import (
	"context"
	"maps"
	"slices"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	protobuf "google.golang.org/protobuf/proto"
)

// sotwState is what a SotW client holds, kept across its streams (a
// restart, -restart): the listeners and clusters, and per type the version
// it last accepted and the names it asks for.
type sotwState struct {
	held    map[string][]heldResource
	version map[string]string
	names   map[string][]string
}

func newSotwState() *sotwState {
	return &sotwState{held: map[string][]heldResource{}, version: map[string]string{}, names: map[string][]string{}}
}

// requests are the first requests of a stream, one per type the client
// asks for: on the first stream the wildcard types without a version; on a
// new one, as Envoy's, every type it asked for with the version it last
// accepted and no nonce (SotwSubscriptionState::getNextRequestInternal
// after markStreamFresh, source/extensions/config_subscription/grpc/
// xds_mux/sotw_subscription_state.cc), which lets the server send nothing
// it already holds (xds/server sotwstream.go, resume).
func (st *sotwState) requests() []*discoveryv3.DiscoveryRequest {
	var out []*discoveryv3.DiscoveryRequest
	for _, t := range wildcardTypes {
		out = append(out, &discoveryv3.DiscoveryRequest{TypeUrl: t, VersionInfo: st.version[t]})
	}
	for _, t := range namedTypes {
		if len(st.names[t]) > 0 {
			out = append(out, &discoveryv3.DiscoveryRequest{TypeUrl: t, VersionInfo: st.version[t], ResourceNames: st.names[t]})
		}
	}
	return out
}

// runSotw speaks state-of-the-world ADS: wildcard CDS and LDS, then EDS,
// RDS and SDS for the names they reference, ACKing every response.
func (c *client) runSotw(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient, node *corev3.Node) error {
	s, err := ads.StreamAggregatedResources(ctx, grpc.ForceCodecV2(newClientCodec(c.refs)))
	if err != nil {
		return err
	}
	st := c.sotw
	nonce := map[string]string{} // of this stream's responses
	first := true
	send := func(req *discoveryv3.DiscoveryRequest) error {
		if first {
			req.Node, first = node, false // set_node_on_first_message_only
		}
		return s.Send(req)
	}
	request := func(t string) error {
		return send(&discoveryv3.DiscoveryRequest{TypeUrl: t, VersionInfo: st.version[t], ResponseNonce: nonce[t], ResourceNames: st.names[t]})
	}
	for _, req := range st.requests() {
		if err := send(req); err != nil {
			return err
		}
	}
	c.opened(time.Now())
	for {
		var resp response
		if err := s.RecvMsg(&resp); err != nil {
			return err
		}
		c.retry.reset()
		t := resp.typeURL
		st.version[t], nonce[t] = resp.version, resp.nonce
		if err := request(t); err != nil { // the ACK
			return err
		}
		c.acked(t, resp.version, resp.size)
		if !slices.Contains(wildcardTypes, t) {
			continue // only listeners and clusters reference names
		}
		st.held[t] = resp.held
		want, err := followed(st.held)
		if err != nil {
			return err
		}
		for _, nt := range namedTypes {
			if len(want[nt]) == 0 || slices.Equal(want[nt], st.names[nt]) {
				continue
			}
			st.names[nt] = want[nt]
			if err := request(nt); err != nil {
				return err
			}
		}
	}
}

// deltaState is what a delta client holds, kept across its streams: per
// type, the resources by name (their versions, and of listeners and
// clusters what they reference), and the names it subscribes to.
type deltaState struct {
	held       map[string]map[string]heldResource
	subscribed map[string][]string
}

func newDeltaState() *deltaState {
	st := &deltaState{held: map[string]map[string]heldResource{}, subscribed: map[string][]string{}}
	for _, t := range append(slices.Clone(wildcardTypes), namedTypes...) {
		st.held[t] = map[string]heldResource{}
	}
	return st
}

// requests are the first requests of a stream, the first from node: the
// wildcard types, then the named types it subscribes to, each with the
// version of every resource of the type it holds, as Envoy's
// (DeltaSubscriptionState::getNextRequestAckless, source/extensions/
// config_subscription/grpc/delta_subscription_state.cc). On the first
// stream that is the wildcard types alone, holding nothing. The versions
// are encoded here (withVersions): encoding a map through protobuf-go
// was most of the clients' CPU in a restart storm, on the server's cores.
func (st *deltaState) requests(node *corev3.Node) ([]rawRequest, error) {
	var out []rawRequest
	add := func(req *discoveryv3.DeltaDiscoveryRequest) error {
		if len(out) == 0 {
			req.Node = node
		}
		b, err := protobuf.Marshal(req)
		if err != nil {
			return err
		}
		out = append(out, withVersions(b, st.held[req.TypeUrl]))
		return nil
	}
	for _, t := range wildcardTypes {
		if err := add(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t}); err != nil {
			return nil, err
		}
	}
	for _, t := range namedTypes {
		if len(st.subscribed[t]) > 0 {
			if err := add(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResourceNamesSubscribe: st.subscribed[t]}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// runDelta speaks incremental ADS: wildcard CDS and LDS, then subscriptions
// to the names they reference, ACKing every response.
func (c *client) runDelta(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient, node *corev3.Node) error {
	s, err := ads.DeltaAggregatedResources(ctx, grpc.ForceCodecV2(newClientCodec(c.refs)))
	if err != nil {
		return err
	}
	st := c.deltaSt
	reqs, err := st.requests(node)
	if err != nil {
		return err
	}
	for _, req := range reqs {
		if err := s.SendMsg(req); err != nil {
			return err
		}
	}
	first := len(reqs) == 0
	send := func(req *discoveryv3.DeltaDiscoveryRequest) error {
		if first {
			req.Node, first = node, false
		}
		return s.Send(req)
	}
	c.opened(time.Now())
	for {
		resp := response{delta: true}
		if err := s.RecvMsg(&resp); err != nil {
			return err
		}
		c.retry.reset()
		t := resp.typeURL
		if err := send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResponseNonce: resp.nonce}); err != nil {
			return err
		}
		c.acked(t, resp.version, resp.size)
		h := st.held[t]
		if h == nil {
			continue // a type it did not ask for
		}
		for _, r := range resp.held {
			h[r.name] = r
		}
		for _, n := range resp.removed {
			delete(h, n)
		}
		switch {
		case !slices.Contains(wildcardTypes, t):
			continue // only listeners and clusters reference names
		case len(resp.held) == 0 && len(resp.removed) == 0:
			// Nothing changed: the server's answer to a resumed stream's
			// first wildcard request (in a restart storm, following the
			// thousand clusters again for each took most of the clients'
			// CPU).
			continue
		}
		if err := c.follow(st, send); err != nil {
			return err
		}
	}
}

// follow subscribes to the names the held listeners and clusters
// reference, and unsubscribes from those they no longer do, forgetting
// those resources as Envoy does (they are not presented on a new stream).
func (c *client) follow(st *deltaState, send func(*discoveryv3.DeltaDiscoveryRequest) error) error {
	want, err := followed(lists(st.held))
	if err != nil {
		return err
	}
	for _, nt := range namedTypes {
		add, remove := diff(st.subscribed[nt], want[nt])
		if len(add) == 0 && len(remove) == 0 {
			continue
		}
		st.subscribed[nt] = want[nt]
		for _, n := range remove {
			delete(st.held[nt], n)
		}
		if err := send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: nt, ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: remove}); err != nil {
			return err
		}
	}
	return nil
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

// lists turns the held listeners and clusters, by name, into lists.
func lists(held map[string]map[string]heldResource) map[string][]heldResource {
	out := map[string][]heldResource{}
	for _, t := range wildcardTypes {
		m := held[t]
		for _, name := range slices.Sorted(maps.Keys(m)) {
			out[t] = append(out[t], m[name])
		}
	}
	return out
}
