package envoytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/server/labels"
)

// Options configure a fake Envoy.
type Options struct {
	NodeID  string
	Cluster string
	Labels  map[string]string
	// Delta speaks incremental ADS (api_type DELTA_GRPC) instead of SotW.
	Delta bool
	// NACK, when set, judges every response; a non-nil error rejects it,
	// with the error's text as error_detail.
	NACK func(Response) error
	// DialOptions replace the default insecure credentials.
	DialOptions []grpc.DialOption
}

// Response is one response as the fake Envoy received it.
type Response struct {
	Stream  int // 1 for the first stream, one more per Reconnect
	TypeURL string
	Version string // SotW version_info, delta system_version_info
	Nonce   string
	Names   []string // resources carried, in the order received
	Removed []string // delta removed_resources
	NACK    string   // error detail sent back; "" when ACKed
	// Resources are the decoded resources, in Names' order.
	Resources []proto.Message

	isDelta bool // received on a delta stream
}

// Client is a fake Envoy connected to an ADS server.
type Client struct {
	opts Options
	conn *grpc.ClientConn
	ads  discoveryv3.AggregatedDiscoveryServiceClient

	mu        sync.Mutex
	st        *state
	everAsked map[string]bool // types asked for on any stream
	responses []Response
	changed   chan struct{} // closed and replaced on every response
	streamN   int
	streamErr error
	closed    bool
	cancel    context.CancelFunc
	done      chan struct{} // closed when the stream's goroutine returns
}

// Dial connects a fake Envoy to addr and opens its first ADS stream.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	c := &Client{opts: opts, st: newState(), everAsked: map[string]bool{}, changed: make(chan struct{})}
	conn, err := grpc.NewClient(addr, c.dialOptions()...)
	if err != nil {
		return nil, err
	}
	c.conn, c.ads = conn, discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if err := c.connect(ctx); err != nil {
		return nil, errors.Join(err, conn.Close())
	}
	return c, nil
}

// Reconnect closes the stream and opens a new one presenting what the client
// holds, as Envoy does after losing its control plane connection.
func (c *Client) Reconnect(ctx context.Context) error {
	c.disconnect()
	return c.connect(ctx)
}

// Failover closes the stream and connection and resumes on another server,
// presenting what the client holds, as Envoy does when its xds cluster
// resolves to another replica.
func (c *Client) Failover(ctx context.Context, addr string) error {
	c.disconnect()
	conn, err := grpc.NewClient(addr, c.dialOptions()...)
	if err != nil {
		return err
	}
	if err := c.conn.Close(); err != nil {
		return errors.Join(err, conn.Close())
	}
	c.conn, c.ads = conn, discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	return c.connect(ctx)
}

func (c *Client) dialOptions() []grpc.DialOption {
	if c.opts.DialOptions != nil {
		return c.opts.DialOptions
	}
	return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
}

// Close ends the stream and the connection; closing again does nothing.
func (c *Client) Close() error {
	c.disconnect()
	c.mu.Lock()
	closed := c.closed
	c.closed = true
	c.mu.Unlock()
	if closed {
		return nil
	}
	return c.conn.Close()
}

func (c *Client) node() *corev3.Node {
	return &corev3.Node{Id: c.opts.NodeID, Cluster: c.opts.Cluster, Metadata: labels.Metadata(c.opts.Labels)}
}

// protocol is one stream's SotW or delta conversation.
type protocol interface {
	// ask sends a type's first request on the stream, presenting what the
	// client holds of it.
	ask(typeURL string) error
	// follow asks for what the accepted resources reference, and for
	// listeners once the clusters are warm.
	follow() error
	// step receives one response and answers it.
	step() error
}

// start sends a stream's first requests: CDS for a fresh client; when
// resuming, like Envoy, a request for every type it asked for before, so
// the server can tell it needs nothing.
func (c *Client) start(p protocol, resume bool) error {
	types := []string{ClusterType}
	if resume {
		c.mu.Lock()
		types = types[:0]
		for _, t := range []string{ClusterType, EndpointType, ListenerType, RouteType, SecretType} {
			if c.everAsked[t] {
				types = append(types, t)
			}
		}
		c.mu.Unlock()
	}
	for _, t := range types {
		if err := p.ask(t); err != nil {
			return err
		}
	}
	return p.follow()
}

func (c *Client) connect(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	c.mu.Lock()
	c.streamN++
	id, resume := c.streamN, len(c.everAsked) > 0
	c.cancel, c.done, c.streamErr = cancel, make(chan struct{}), nil
	done := c.done
	c.mu.Unlock()
	var p protocol
	var err error
	if c.opts.Delta {
		p, err = newDelta(ctx, c, id)
	} else {
		p, err = newSotw(ctx, c, id)
	}
	if err != nil {
		cancel()
		close(done)
		return err
	}
	if err := c.start(p, resume); err != nil {
		cancel()
		close(done)
		return err
	}
	go func() {
		defer close(done)
		for {
			if err := p.step(); err != nil {
				c.mu.Lock()
				c.streamErr = err
				c.notify()
				c.mu.Unlock()
				return
			}
		}
	}()
	return nil
}

func (c *Client) disconnect() {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// notify wakes the waiters; c.mu must be held.
func (c *Client) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Err returns why the current stream ended, or nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streamErr
}

// View returns what the client has accepted.
func (c *Client) View() View {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.view(len(c.responses))
}

// Responses returns every response received, oldest first.
func (c *Client) Responses() []Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Response(nil), c.responses...)
}

// Wait waits until cond holds for the client's view, or fails after timeout
// describing what it waited for, what is missing and what was received.
func (c *Client) Wait(timeout time.Duration, what string, cond func(View) bool) (View, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		v, ch, serr := c.st.view(len(c.responses)), c.changed, c.streamErr
		c.mu.Unlock()
		if cond(v) {
			return v, nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return v, fmt.Errorf("fake Envoy %q: timed out after %v waiting for %s (missing: %s; stream: %v)\n%s",
				c.opts.NodeID, timeout, what, v.Missing(), serr, c.describe())
		}
	}
}

// WaitComplete waits until the client holds a complete configuration.
func (c *Client) WaitComplete(timeout time.Duration) (View, error) {
	return c.Wait(timeout, "a complete configuration", func(v View) bool { return v.Missing() == "" })
}

func (c *Client) describe() string {
	var b strings.Builder
	for _, r := range c.Responses() {
		fmt.Fprintf(&b, "  stream %d %s version %.12s nonce %s names %v removed %v nack %q\n",
			r.Stream, r.TypeURL, r.Version, r.Nonce, r.Names, r.Removed, r.NACK)
	}
	return b.String()
}

// judge runs the NACK hook outside the lock (it may call back into the
// client) and turns a decoding error into a NACK, as Envoy would.
func (c *Client) judge(r Response, decodeErr error) error {
	if decodeErr != nil {
		return decodeErr
	}
	if c.opts.NACK != nil {
		return c.opts.NACK(r)
	}
	return nil
}

// record stores a response; c.mu must be held.
func (c *Client) record(r Response) {
	c.responses = append(c.responses, r)
	c.notify()
}

// subscriptionChanges recomputes the named subscriptions from the accepted
// listeners and clusters and returns, per type whose subscription changed,
// the old names; it also says whether listeners should now be asked for.
// c.mu must be held.
func (c *Client) subscriptionChanges(asked map[string]bool) (map[string][]string, bool, error) {
	wants, err := c.st.wants()
	if err != nil {
		return nil, false, err
	}
	changed := map[string][]string{}
	for _, t := range []string{EndpointType, RouteType, SecretType} {
		old := c.st.subscribed[t]
		added, removed := diff(old, wants[t])
		if len(added) == 0 && len(removed) == 0 && (asked[t] || len(wants[t]) == 0) {
			continue
		}
		changed[t] = old
		c.st.subscribed[t] = wants[t]
		c.st.drop(t, wants[t])
	}
	warm, err := c.st.clustersWarm()
	return changed, warm && !asked[ListenerType], err
}
