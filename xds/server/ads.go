package server

import (
	"context"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ads serves the ADS streams, SotW and delta, from the groups' shared state
// (store.go): each stream keeps what it asks for and holds (sotwstream.go,
// deltastream.go), and wakes when its group's state is replaced. A reload
// touches no stream: it closes one channel per group, and each stream works
// out and writes its responses on its own goroutine, so no lock is held
// while writing to streams and Reload does not grow with the proxies.
type ads struct {
	ctx      context.Context // ends every stream
	caches   *caches
	cb       *callbacks
	names    *requestNames // the codec's
	sotwIDs  atomic.Int64  // SotW and delta streams are numbered apart
	deltaIDs atomic.Int64
}

var _ discoveryv3.AggregatedDiscoveryServiceServer = (*ads)(nil)

// recv reads a stream's requests into a channel, closed when reading ends.
func recv[T any](ctx context.Context, gs grpc.ServerStream, read func() (T, error)) <-chan T {
	ch := make(chan T)
	go func() {
		defer close(ch)
		for {
			req, err := read()
			if err != nil {
				return // the client went away, or the guard ended the stream
			}
			select {
			case ch <- req:
			case <-gs.Context().Done():
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// streamBase is what a SotW or delta stream's record knows of its group.
type streamBase struct {
	entry *groupEntry
	state *groupState // the group's state the stream last looked at
}

// wake is closed when the group's state moves on from the stream's.
func (b *streamBase) wake() <-chan struct{} { return b.state.changed }

// latest is the group's state now.
func (b *streamBase) latest() *groupState { return b.entry.state.Load() }

// adsRequest is what the loop reads of a SotW or delta request.
type adsRequest interface {
	GetTypeUrl() string
	GetNode() *corev3.Node
}

// adsStream is a stream's record, SotW (sotwStream) or delta (deltaStream):
// request returns the response a request calls for (nil: none), changed
// moves the stream to its group's new state and returns the responses that
// calls for.
type adsStream[Req adsRequest, Out comparable] interface {
	request(req Req) Out
	changed(next *groupState) []Out
	wake() <-chan struct{}
	latest() *groupState
}

// streamKind is what differs between a SotW and a delta stream.
type streamKind[Req adsRequest, Out comparable] struct {
	read    func() (Req, error)
	setNode func(req Req, node *corev3.Node)
	// handle runs the callbacks (ACK/NACK, the proxy's group); an error
	// ends the stream.
	handle func(req Req) error
	// open makes the stream's record at its first request.
	open func(node *corev3.Node) adsStream[Req, Out]
	send func(o Out) error
}

// serve runs one ADS stream: each request, with the stream's node filled in
// when it carries none, passes the callbacks, and each request and each
// change of the group's state gives the responses to send, written on this
// goroutine.
func serve[Req adsRequest, Out comparable](a *ads, gs grpc.ServerStream, k streamKey, kind streamKind[Req, Out]) error {
	a.cb.open(gs.Context(), k)
	node := &corev3.Node{}
	defer func() { a.cb.closed(k, node) }()
	reqs := recv(a.ctx, gs, kind.read)
	var (
		s       adsStream[Req, Out]
		changed <-chan struct{} // nil until the stream is in its group
		none    Out
	)
	for {
		select {
		case <-a.ctx.Done():
			return nil
		case <-changed:
			for _, o := range s.changed(s.latest()) {
				if err := kind.send(o); err != nil {
					return err
				}
			}
			changed = s.wake()
		case req, ok := <-reqs:
			if !ok {
				return nil
			}
			if req.GetTypeUrl() == "" {
				return status.Error(codes.InvalidArgument, "type URL is required for ADS")
			}
			if req.GetNode() != nil {
				node = req.GetNode()
			} else {
				kind.setNode(req, node)
			}
			if err := kind.handle(req); err != nil {
				return err
			}
			if s == nil {
				s = kind.open(node)
				changed = s.wake()
			}
			if o := s.request(req); o != none {
				if err := kind.send(o); err != nil {
					return err
				}
			}
		}
	}
}

// StreamAggregatedResources serves a SotW ADS stream.
func (a *ads) StreamAggregatedResources(gs discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	k := streamKey{id: a.sotwIDs.Add(1)}
	return serve(a, gs, k, streamKind[*discoveryv3.DiscoveryRequest, *sotwOut]{
		read:    gs.Recv,
		setNode: func(req *discoveryv3.DiscoveryRequest, node *corev3.Node) { req.Node = node },
		handle:  func(req *discoveryv3.DiscoveryRequest) error { return a.cb.sotwRequest(k, req) },
		open: func(node *corev3.Node) adsStream[*discoveryv3.DiscoveryRequest, *sotwOut] {
			s := newSotwStream(a.caches.entry(a.cb.proxies.groupOf(k)), func(version string) map[string]bool {
				return a.cb.proxies.ackedSecretNames(node.GetId(), a.cb.proxies.groupOf(k), version)
			})
			s.names = a.names
			return s
		},
		send: func(o *sotwOut) error {
			a.cb.sotwResponse(k, o.resp, o.names)
			if err := gs.Send(o.resp); err != nil {
				return status.Error(codes.Unavailable, err.Error())
			}
			return nil
		},
	})
}

// DeltaAggregatedResources serves a delta ADS stream.
func (a *ads) DeltaAggregatedResources(gs discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesServer) error {
	k := streamKey{delta: true, id: a.deltaIDs.Add(1)}
	return serve(a, gs, k, streamKind[*discoveryv3.DeltaDiscoveryRequest, *discoveryv3.DeltaDiscoveryResponse]{
		read:    gs.Recv,
		setNode: func(req *discoveryv3.DeltaDiscoveryRequest, node *corev3.Node) { req.Node = node },
		handle:  func(req *discoveryv3.DeltaDiscoveryRequest) error { return a.cb.deltaRequest(k, req) },
		open: func(*corev3.Node) adsStream[*discoveryv3.DeltaDiscoveryRequest, *discoveryv3.DeltaDiscoveryResponse] {
			return newDeltaStream(a.caches.entry(a.cb.proxies.groupOf(k)))
		},
		send: func(r *discoveryv3.DeltaDiscoveryResponse) error {
			a.cb.deltaResponse(k, r)
			return gs.Send(r)
		},
	})
}
