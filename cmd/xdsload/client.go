package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/trustgate/trustgate/xds/server/labels"
)

// The types a gateway asks for: listeners and clusters by wildcard, the rest
// by the names those reference.
var (
	wildcardTypes = []string{resource.ClusterType, resource.ListenerType}
	namedTypes    = []string{resource.EndpointType, resource.RouteType, resource.SecretType}
)

// envoyWindow is Envoy's default HTTP/2 flow-control window.
const envoyWindow = 256 << 20

// ack is a version a client accepted, and when it sent the ACK.
type ack struct {
	version string
	at      time.Time
}

// client is a light Envoy-like ADS client: it asks for what a gateway asks
// for, follows the references of listeners and clusters, and ACKs every
// response, but keeps only names and versions (envoytest keeps everything,
// which at 1,000 hosts is megabytes per client).
type client struct {
	id    string
	delta bool
	// reconnect: a stream that ends is opened again, as Envoy does
	// (-restart); otherwise its end is the client's error.
	reconnect bool
	refs      *refsCache

	// Kept across streams, touched by the client's goroutine only.
	sotw    *sotwState
	deltaSt *deltaState
	retry   backoff

	mu    sync.Mutex
	acks  map[string][]ack // per type, oldest first
	bytes int64            // response bytes received (proto size)
	err   error
	// openedAt is when the client sent the first requests of its latest
	// stream; lastErr how its previous stream ended (reconnect only).
	openedAt time.Time
	lastErr  error
	// changed is closed and replaced whenever acks grows or the client
	// stops.
	changed chan struct{}
}

func newClient(id string, delta, reconnect bool, rc *refsCache) *client {
	return &client{id: id, delta: delta, reconnect: reconnect, refs: rc, sotw: newSotwState(), deltaSt: newDeltaState(),
		retry: newBackoff(), acks: map[string][]ack{}, changed: make(chan struct{})}
}

// run connects and follows the server until ctx ends or the stream fails;
// with reconnect, a failed stream is opened again after Envoy's back-off,
// until ctx ends.
func (c *client) run(ctx context.Context, addr string, group map[string]string) {
	node := &corev3.Node{Id: c.id, Cluster: "xdsload", Metadata: labels.Metadata(group)}
	var err error
	for {
		err = c.stream(ctx, addr, node)
		if !c.reconnect || ctx.Err() != nil {
			break
		}
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(c.retry.next()):
		}
	}
	if ctx.Err() != nil {
		err = nil // stopped
	}
	c.mu.Lock()
	c.err = err
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// stream opens a connection and an ADS stream on it, and follows the
// server until the stream ends. Each stream has a connection of its own,
// dialled afresh: gRPC's own reconnection back-off (1 s and up) would
// otherwise come on top of Envoy's.
func (c *client) stream(ctx context.Context, addr string, node *corev3.Node) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)),
		// Envoy's HTTP/2 windows, per stream and per connection, are 256 MiB
		// unless configured (Http2::Utility::OptionsLimits::
		// DEFAULT_INITIAL_STREAM_WINDOW_SIZE and _CONNECTION_WINDOW_SIZE,
		// source/common/http/http_option_limits.h; envoy/bootstrap-*.yaml sets
		// neither), so a server is never held back by an Envoy's flow
		// control; gRPC's 64 KiB would make the server wait for window
		// updates at every 64 KiB of a 3 MB response.
		grpc.WithInitialWindowSize(envoyWindow), grpc.WithInitialConnWindowSize(envoyWindow))
	if err != nil {
		return err
	}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if c.delta {
		err = c.runDelta(ctx, ads, node)
	} else {
		err = c.runSotw(ctx, ads, node)
	}
	return errors.Join(err, conn.Close())
}

// opened records that the client sent the first requests of a stream.
func (c *client) opened(at time.Time) {
	c.mu.Lock()
	c.openedAt = at
	c.mu.Unlock()
}

// lastStream returns when the client sent the first requests of its latest
// stream, and how its previous stream ended.
func (c *client) lastStream() (opened time.Time, ended error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.openedAt, c.lastErr
}

// acked records an ACK of a version of typeURL and bytes received.
func (c *client) acked(typeURL, version string, size int) {
	c.mu.Lock()
	c.acks[typeURL] = append(c.acks[typeURL], ack{version: version, at: time.Now()})
	c.bytes += int64(size)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// reached returns when the client ACKed want[t] for every type of want,
// and whether it has; it reports the client's error, if it stopped.
func (c *client) reached(want map[string]string) (time.Time, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last time.Time
	for t, v := range want {
		i := slices.IndexFunc(c.acks[t], func(a ack) bool { return a.version == v })
		if i < 0 {
			return time.Time{}, false, c.err
		}
		last = maxTime(last, c.acks[t][i].at)
	}
	return last, true, c.err
}

// wait blocks until the client reached want or deadline passes.
func (c *client) wait(want map[string]string, deadline time.Time) (time.Time, error) {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		at, ok, err := c.reached(want)
		switch {
		case ok:
			return at, nil
		case err != nil:
			return time.Time{}, fmt.Errorf("client %s: %w", c.id, err)
		}
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
			return time.Time{}, fmt.Errorf("client %s: timed out waiting for versions %v", c.id, short(want))
		}
	}
}

func (c *client) received() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// followed computes, from the held listeners and clusters, the names of the
// named types to subscribe to.
func followed(held map[string][]heldResource) (map[string][]string, error) {
	set := map[string]map[string]bool{}
	for _, t := range namedTypes {
		set[t] = map[string]bool{}
	}
	for _, t := range wildcardTypes {
		for _, h := range held[t] {
			if h.refs.err != nil {
				return nil, h.refs.err
			}
			r := h.refs.r
			addAll(set[resource.RouteType], r.Routes)
			addAll(set[resource.EndpointType], r.Endpoints)
			addAll(set[resource.SecretType], r.Secrets)
		}
	}
	out := map[string][]string{}
	for t, s := range set {
		out[t] = slices.Sorted(maps.Keys(s))
	}
	return out, nil
}

func addAll(s map[string]bool, names []string) {
	for _, n := range names {
		s[n] = true
	}
}
