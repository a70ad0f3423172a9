package server

import (
	"context"
	"errors"
	"log/slog"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// callbacks are go-control-plane's stream hooks. They run synchronously on
// the stream's goroutine before the cache sees a request, which is what makes
// compiling a group on its first request race-free: the watch the request
// opens finds the snapshot installed. They never return an error, which would
// close the stream: a NACK is information, not a reason to hang up.
type callbacks struct {
	ctx     context.Context
	groups  *groups
	proxies *proxies
	metrics *metrics
	log     *slog.Logger
}

var _ serverv3.Callbacks = (*callbacks)(nil)

// OnStreamOpen implements sotw.Callbacks.
func (c *callbacks) OnStreamOpen(ctx context.Context, id int64, _ string) error {
	c.proxies.open(streamKey{id: id}, peerAddr(ctx))
	return nil
}

// OnStreamClosed implements sotw.Callbacks.
func (c *callbacks) OnStreamClosed(id int64, n *corev3.Node) {
	c.closed(streamKey{id: id}, n)
}

// OnStreamRequest implements sotw.Callbacks. A request carrying ErrorDetail
// is a NACK of ResponseNonce; its VersionInfo is still the last version
// accepted.
//
// A NACK's request is rewritten to claim the rejected version: the cache
// answers at once any request whose version differs from the snapshot's, so
// it would send the rejected configuration straight back, Envoy would reject
// it again, and the two would loop at network speed (go-control-plane#962;
// pkg/cache/v3/simple.go, CreateWatch: "The version is different ...
// respond"). Claiming the rejected
// version parks the watch until the configuration changes. (Delta needs no
// such thing: the cache already counts the rejected resources as sent.)
func (c *callbacks) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	k := streamKey{id: id}
	if err := c.identify(k, req.GetNode()); err != nil {
		return err
	}
	c.unknownNames(k, req.GetNode(), req.GetTypeUrl(), req.GetResourceNames(), true)
	if req.GetResponseNonce() == "" {
		return nil
	}
	a := answer{typeURL: req.GetTypeUrl(), nonce: req.GetResponseNonce(), version: req.GetVersionInfo(), detail: req.GetErrorDetail()}
	if rejected := c.answered(k, req.GetNode(), a); rejected != "" {
		req.VersionInfo = rejected
	}
	return nil
}

// OnStreamResponse implements sotw.Callbacks.
func (c *callbacks) OnStreamResponse(_ context.Context, id int64, req *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	var names []string
	if resp.GetTypeUrl() == resource.SecretType {
		names = req.GetResourceNames() // the non-ADS secret cache answers with exactly these
	}
	c.proxies.pushed(streamKey{id: id}, resp.GetTypeUrl(), resp.GetNonce(), resp.GetVersionInfo(), names)
}

// OnDeltaStreamOpen implements delta.Callbacks.
func (c *callbacks) OnDeltaStreamOpen(ctx context.Context, id int64, _ string) error {
	c.proxies.open(streamKey{delta: true, id: id}, peerAddr(ctx))
	return nil
}

// OnDeltaStreamClosed implements delta.Callbacks.
func (c *callbacks) OnDeltaStreamClosed(id int64, n *corev3.Node) {
	c.closed(streamKey{delta: true, id: id}, n)
}

// OnStreamDeltaRequest implements delta.Callbacks. Unlike the SotW server,
// the delta server fills in the node of later requests only after this
// callback, so the node is taken from the first request alone.
func (c *callbacks) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	k := streamKey{delta: true, id: id}
	if err := c.identify(k, req.GetNode()); err != nil {
		return err
	}
	c.unknownNames(k, req.GetNode(), req.GetTypeUrl(), req.GetResourceNamesSubscribe(), false)
	if req.GetResponseNonce() != "" {
		a := answer{typeURL: req.GetTypeUrl(), nonce: req.GetResponseNonce(), detail: req.GetErrorDetail()}
		_ = c.answered(k, req.GetNode(), a) // see OnStreamRequest
	}
	return nil
}

// OnStreamDeltaResponse implements delta.Callbacks.
func (c *callbacks) OnStreamDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	c.proxies.pushed(streamKey{delta: true, id: id}, resp.GetTypeUrl(), resp.GetNonce(), resp.GetSystemVersionInfo(), nil)
}

// OnFetchRequest implements rest.Callbacks; REST xDS is not served.
func (c *callbacks) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error { return nil }

// OnFetchResponse implements rest.Callbacks; REST xDS is not served.
func (c *callbacks) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {}

// identify handles a stream's first request: it records the node and joins
// the stream to the node's group, compiling it unless it is known. A refusal
// (see groups.ensure) is logged, counted, and ends the stream with its
// status: go-control-plane returns a callback's error as the stream's.
func (c *callbacks) identify(k streamKey, n *corev3.Node) error {
	var group string
	first, err := c.proxies.identify(k, n, func(l map[string]string) (string, error) {
		var err error
		group, err = c.groups.ensure(c.ctx, l)
		return group, err
	})
	if err != nil {
		var r *refusal
		if !errors.As(err, &r) {
			r = &refusal{reason: reasonOther, code: codes.Internal, err: err}
		}
		c.metrics.denied.WithLabelValues(r.reason).Inc()
		c.log.Warn("xDS stream refused", "node", clip(n.GetId()), "reason", r.reason, "code", r.code.String(), "error", clip(r.Error()))
		return status.Error(r.code, clip(r.Error()))
	}
	if first {
		c.log.Info("proxy connected", "node", n.GetId(), "protocol", protocolName(k), "stream", k.id, "group", group)
	}
	return nil
}

// closed releases a stream's group and forgets the stream, in this order:
// once /debug/proxies no longer shows a stream, its group does not count it.
func (c *callbacks) closed(k streamKey, n *corev3.Node) {
	if group, held := c.proxies.leaveGroup(k); held {
		c.groups.release(group)
	}
	c.proxies.close(k)
	c.log.Info("proxy disconnected", "node", n.GetId(), "protocol", protocolName(k), "stream", k.id)
}

func protocolName(k streamKey) string {
	if k.delta {
		return "delta"
	}
	return "sotw"
}

// answer is what a request says about the response it answers.
type answer struct {
	typeURL string
	nonce   string            // the response's nonce
	version string            // SotW: the version the proxy runs (delta: "")
	detail  *rpcstatus.Status // set: a NACK
}

// answered records an ACK, or a NACK (logged: it means Envoy runs an older
// configuration than the one served).
func (c *callbacks) answered(k streamKey, n *corev3.Node, a answer) (rejected string) {
	rejected = c.proxies.answered(k, a)
	if a.detail != nil {
		c.log.Warn("proxy rejected configuration (NACK)", "node", n.GetId(), "type", shortType(a.typeURL),
			"nonce", a.nonce, "message", a.detail.GetMessage())
	}
	return rejected
}

func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}
