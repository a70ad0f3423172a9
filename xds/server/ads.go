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
	sotwIDs  atomic.Int64 // SotW and delta streams are numbered apart
	deltaIDs atomic.Int64
}

var _ discoveryv3.AggregatedDiscoveryServiceServer = (*ads)(nil)

// recv reads a stream's requests into a channel, closed when reading ends.
func recv[T any](ctx context.Context, gs grpc.ServerStream, read func() (*T, error)) <-chan *T {
	ch := make(chan *T)
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

// StreamAggregatedResources serves a SotW ADS stream.
func (a *ads) StreamAggregatedResources(gs discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	k := streamKey{id: a.sotwIDs.Add(1)}
	a.cb.open(gs.Context(), k)
	node := &corev3.Node{}
	defer func() { a.cb.closed(k, node) }()
	reqs := recv(a.ctx, gs, gs.Recv)
	var (
		s       *sotwStream
		changed <-chan struct{} // nil until the stream is in its group
	)
	send := func(o *sotwOut) error {
		a.cb.sotwResponse(k, o.resp, o.names)
		if err := gs.Send(o.resp); err != nil {
			return status.Error(codes.Unavailable, err.Error())
		}
		return nil
	}
	for {
		select {
		case <-a.ctx.Done():
			return nil
		case <-changed:
			for _, o := range s.changed(s.entry.state.Load()) {
				if err := send(o); err != nil {
					return err
				}
			}
			changed = s.state.changed
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
				req.Node = node
			}
			if err := a.cb.sotwRequest(k, req); err != nil {
				return err
			}
			if s == nil {
				e := a.caches.entry(a.cb.proxies.groupOf(k))
				s = newSotwStream(e, func(version string) map[string]bool {
					return a.cb.proxies.ackedSecretNames(node.GetId(), a.cb.proxies.groupOf(k), version)
				})
				changed = s.state.changed
			}
			if o := s.request(req); o != nil {
				if err := send(o); err != nil {
					return err
				}
			}
		}
	}
}

// DeltaAggregatedResources serves a delta ADS stream.
func (a *ads) DeltaAggregatedResources(gs discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesServer) error {
	k := streamKey{delta: true, id: a.deltaIDs.Add(1)}
	a.cb.open(gs.Context(), k)
	node := &corev3.Node{}
	defer func() { a.cb.closed(k, node) }()
	reqs := recv(a.ctx, gs, gs.Recv)
	var (
		s       *deltaStream
		changed <-chan struct{}
	)
	send := func(r *discoveryv3.DeltaDiscoveryResponse) error {
		a.cb.deltaResponse(k, r)
		return gs.Send(r)
	}
	for {
		select {
		case <-a.ctx.Done():
			return nil
		case <-changed:
			for _, r := range s.changed(s.entry.state.Load()) {
				if err := send(r); err != nil {
					return err
				}
			}
			changed = s.state.changed
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
				req.Node = node
			}
			if err := a.cb.deltaRequest(k, req); err != nil {
				return err
			}
			if s == nil {
				s = newDeltaStream(a.caches.entry(a.cb.proxies.groupOf(k)))
				changed = s.state.changed
			}
			if r := s.request(req); r != nil {
				if err := send(r); err != nil {
					return err
				}
			}
		}
	}
}
