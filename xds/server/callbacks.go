package server

import (
	"context"
	"errors"
	"log/slog"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// callbacks are the ADS streams' hooks (ads.go): they run on the stream's
// goroutine before the stream's state sees a request, which is what makes
// compiling a group on its first request race-free: the stream finds the
// snapshot installed. Only a refusal of the node ends a stream: a NACK is
// information, not a reason to hang up.
type callbacks struct {
	ctx     context.Context
	groups  *groups
	proxies *proxies
	names   *requestNames // the requests' names decoded once (reqnames.go)
	metrics *metrics
	log     *slog.Logger
}

// open records a new stream.
func (c *callbacks) open(ctx context.Context, k streamKey) {
	c.proxies.open(k, peerAddr(ctx))
}

// sotwRequest handles a SotW request before the stream's state sees it. A
// request carrying ErrorDetail is a NACK of ResponseNonce; its VersionInfo
// is still the last version accepted.
//
// A NACK's request is rewritten to claim the rejected version: a request
// whose version differs from the served one is answered at once, so the
// rejected configuration would go straight back, Envoy would reject it
// again, and the two would loop at network speed (go-control-plane#962).
// Claiming the rejected version parks the stream's type until the
// configuration changes. (Delta needs no such thing: the rejected resources
// count as sent.)
func (c *callbacks) sotwRequest(k streamKey, req *discoveryv3.DiscoveryRequest) error {
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

// sotwResponse records a SotW response about to be sent; names are the
// secrets it answers (see resume).
func (c *callbacks) sotwResponse(k streamKey, resp *discoveryv3.DiscoveryResponse, names []string) {
	c.proxies.pushed(k, resp.GetTypeUrl(), resp.GetNonce(), resp.GetVersionInfo(), names)
}

// deltaRequest handles a delta request before the stream's state sees it.
func (c *callbacks) deltaRequest(k streamKey, req *discoveryv3.DeltaDiscoveryRequest) error {
	if err := c.identify(k, req.GetNode()); err != nil {
		return err
	}
	c.unknownNames(k, req.GetNode(), req.GetTypeUrl(), req.GetResourceNamesSubscribe(), false)
	if req.GetResponseNonce() != "" {
		a := answer{typeURL: req.GetTypeUrl(), nonce: req.GetResponseNonce(), detail: req.GetErrorDetail()}
		_ = c.answered(k, req.GetNode(), a) // see sotwRequest
	}
	return nil
}

// deltaResponse records a delta response about to be sent.
func (c *callbacks) deltaResponse(k streamKey, resp *discoveryv3.DeltaDiscoveryResponse) {
	c.proxies.pushed(k, resp.GetTypeUrl(), resp.GetNonce(), resp.GetSystemVersionInfo(), nil)
}

// identify handles a stream's first request: it records the node and joins
// the stream to the node's group, compiling it unless it is known. A refusal
// (see groups.ensure) is logged, counted, and ends the stream with its
// status.
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
