package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/server/labels"
)

// Authorizer decides whether the peer of a stream may speak for a node, e.g.
// by comparing the node with the stream's verified client certificate. It
// is given the stream's context (with its gRPC peer) and the node id and
// labels of the stream's first request; an error refuses the stream with
// PermissionDenied. An error with a `DenyReason() string` method (a short
// snake_case word) labels trustgate_xds_denied_streams_total.
type Authorizer interface {
	Authorize(ctx context.Context, nodeID string, labels map[string]string) error
}

// Limits on one request, checked before the stream loop sees it. Envoy's
// largest requests are SotW EDS/RDS name lists and a reconnecting delta
// client's initial_resource_versions: about 130 bytes per resource, so 100k
// names fit in 16 MiB. Both far exceed any real configuration's needs; they
// bound what a hostile client makes the server index per request.
const (
	maxRequestNames = 100_000
	maxRequestBytes = 16 << 20
)

// Denial reasons of the guard's own checks.
const (
	reasonNoNode       = "no_node"           // the first request names no node
	reasonNodeChanged  = "node_changed"      // a later request names another node
	reasonTooManyNames = "too_many_names"    // over maxRequestNames
	reasonTooLarge     = "request_too_large" // over maxRequestBytes
	reasonMaxStreams   = "max_streams"       // Options.MaxStreams ADS streams are open
	reasonUnauthorized = "unauthorized"      // the Authorizer gave no reason
	reasonOther        = "other"             // the Authorizer's reason is not a fit metric label
	// Refusals of the stream callbacks, when a stream joins its group.
	reasonTooManyGroups  = "too_many_groups"  // a new group would be over Options.MaxGroups
	reasonLabelsTooLarge = "labels_too_large" // the labels' key is over maxLabelsBytes
)

// maxLabelsBytes bounds the key of a proxy's labels, as the cap on groups
// bounds their number. Kubernetes allows 63-byte values and 317-byte keys:
// 32 KiB is dozens of such labels.
const maxLabelsBytes = 32 << 10

// refusal is a stream refused after the guard let it through: the status
// it ends with, and its metric label.
type refusal struct {
	reason string
	code   codes.Code
	err    error
}

func (r *refusal) Error() string { return r.err.Error() }

// The ADS methods the guard checks.
const (
	adsSotwMethod  = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	adsDeltaMethod = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
)

// maxLogged bounds client-chosen text (node ids, type URLs) in logs and
// statuses.
const maxLogged = 256

var reasonLabel = regexp.MustCompile(`^[a-z_]{1,32}$`)

// guard checks every ADS request as it is read, before the stream loop
// (ads.go) sees it: the size limits, the node (authorized on the first request, the same
// on every later one, and filled in where the client left it out, as
// set_node_on_first_message_only does), and the type URL (a type that is not
// served is dropped, so a client cannot make a stream keep state for types
// without end). A refusal ends the stream with the refusal's status: the
// stream loop returns nil when its reads fail, so the status is kept here
// and returned in place of the handler's.
type guard struct {
	auth    Authorizer // nil: any node
	metrics *metrics
	log     *slog.Logger
	// conns, when set, is told which connections have an ADS stream open
	// (see connLimiter); maxStreams bounds the ADS streams open at once.
	conns      *connLimiter
	maxStreams int64
	open       atomic.Int64
	refusals   *rateLog
}

// intercept is the gRPC stream interceptor.
func (g *guard) intercept(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if info.FullMethod != adsSotwMethod && info.FullMethod != adsDeltaMethod {
		return handler(srv, ss)
	}
	defer g.open.Add(-1)
	if n := g.open.Add(1); g.maxStreams > 0 && n > g.maxStreams {
		g.metrics.denied.WithLabelValues(reasonMaxStreams).Inc()
		g.refusals.warn(reasonMaxStreams, "xDS stream refused: over --max-streams",
			"peer", peerAddr(ss.Context()), "max", g.maxStreams)
		return status.Errorf(codes.ResourceExhausted, "the server has %d ADS streams open, its limit (--max-streams)", g.maxStreams)
	}
	if g.conns != nil {
		defer g.conns.streamStarted(ss.Context())()
	}
	gs := &guardedStream{ServerStream: ss, g: g, loggedTypes: map[string]bool{}}
	err := handler(srv, gs)
	if end := gs.ended(); end != nil {
		return end
	}
	if err != nil {
		g.streamError(gs, err)
	}
	return err
}

// streamError logs a stream that the stream loop ended with an error,
// unless the client went away or it is a refusal, which its check logged.
func (g *guard) streamError(gs *guardedStream, err error) {
	switch status.Code(err) {
	case codes.Canceled, codes.PermissionDenied, codes.ResourceExhausted, codes.InvalidArgument:
		return
	}
	g.log.Warn("xDS stream ended with an error; the proxy reconnects", "peer", peerAddr(gs.Context()),
		"node", clip(gs.nodeID()), "error", clip(err.Error()))
}

// guardedStream is an ADS stream whose reads the guard checks.
type guardedStream struct {
	grpc.ServerStream
	g *guard

	// Only the reading goroutine touches these.
	node        *corev3.Node // of the first request that named one
	loggedTypes map[string]bool

	mu  sync.Mutex
	end error  // the status the stream ends with, when a check refused it
	id  string // the node id, for the sending goroutine's logs
}

func (s *guardedStream) nodeID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// SendMsg sends a response; a failure, which ends the stream (e.g. gRPC's
// ResourceExhausted over MaxSendMsgSize, which the snapshot checks are
// there to prevent), is logged with the response's type and size and
// counted in trustgate_xds_send_errors_total: the stream loop ends the
// stream with it (SotW: as Unavailable) without a word.
func (s *guardedStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil || errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
		return err // sent, or the client went away
	}
	var typeURL string
	switch r := m.(type) {
	case *discoveryv3.DiscoveryResponse:
		typeURL = r.GetTypeUrl()
	case *discoveryv3.DeltaDiscoveryResponse:
		typeURL = r.GetTypeUrl()
	}
	size := 0
	if pm, ok := m.(proto.Message); ok {
		size = proto.Size(pm)
	}
	s.g.metrics.sendErrors.WithLabelValues(shortType(typeURL)).Inc()
	s.g.log.Error("sending an xDS response failed; the stream ends", "peer", peerAddr(s.Context()),
		"node", clip(s.nodeID()), "type", shortType(typeURL), "bytes", size, "error", clip(err.Error()))
	return err
}

func (s *guardedStream) ended() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

func (s *guardedStream) setEnd(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end == nil {
		s.end = err
	}
}

// RecvMsg reads the next request that passes the checks.
func (s *guardedStream) RecvMsg(m any) error {
	for {
		if err := s.ServerStream.RecvMsg(m); err != nil {
			return err // gRPC ends the stream with its own status (e.g. over MaxRecvMsgSize)
		}
		pass, err := s.check(m)
		if err != nil {
			s.setEnd(err)
			return err
		}
		if pass {
			return nil
		}
		if msg, ok := m.(proto.Message); ok {
			proto.Reset(msg)
		}
	}
}

// check returns whether the request goes on to the stream loop, or the
// status that ends the stream.
func (s *guardedStream) check(m any) (bool, error) {
	var (
		node    *corev3.Node
		setNode func(*corev3.Node)
		typeURL string
		names   int
	)
	switch r := m.(type) {
	case *discoveryv3.DiscoveryRequest:
		node, setNode, typeURL = r.GetNode(), func(n *corev3.Node) { r.Node = n }, r.GetTypeUrl()
		names = len(r.GetResourceNames()) + len(r.GetResourceLocators())
	case *discoveryv3.DeltaDiscoveryRequest:
		node, setNode, typeURL = r.GetNode(), func(n *corev3.Node) { r.Node = n }, r.GetTypeUrl()
		names = len(r.GetResourceNamesSubscribe()) + len(r.GetResourceNamesUnsubscribe()) +
			len(r.GetInitialResourceVersions()) + len(r.GetResourceLocatorsSubscribe()) + len(r.GetResourceLocatorsUnsubscribe())
	default:
		return true, nil
	}
	if size := requestSize(m.(proto.Message)); size > maxRequestBytes {
		return false, s.refuse(codes.InvalidArgument, reasonTooLarge, node,
			fmt.Errorf("request of %d bytes is over the limit of %d", size, maxRequestBytes))
	}
	if names > maxRequestNames {
		return false, s.refuse(codes.InvalidArgument, reasonTooManyNames, node,
			fmt.Errorf("request names %d resources, over the limit of %d", names, maxRequestNames))
	}
	if err := s.checkNode(node); err != nil {
		return false, err
	}
	if node == nil && s.node != nil {
		setNode(s.node)
	}
	if typeURL != "" && shortTypes[typeURL] == "" {
		s.unknownType(typeURL)
		return false, nil
	}
	return true, nil
}

// checkNode authorizes the first node and holds later ones to it.
func (s *guardedStream) checkNode(node *corev3.Node) error {
	switch {
	case s.node == nil && node == nil:
		if s.g.auth != nil {
			return s.refuse(codes.PermissionDenied, reasonNoNode, nil, errors.New("the first request must name the node"))
		}
		return nil
	case s.node == nil:
		if s.g.auth != nil {
			if err := s.g.auth.Authorize(s.Context(), node.GetId(), labels.FromNode(node)); err != nil {
				return s.refuse(codes.PermissionDenied, denyReason(err), node, err)
			}
		}
		s.node = node
		s.mu.Lock()
		s.id = node.GetId()
		s.mu.Unlock()
		return nil
	case node != nil && !proto.Equal(node, s.node):
		return s.refuse(codes.PermissionDenied, reasonNodeChanged, node,
			fmt.Errorf("the stream started as node %q and may not change its node", clip(s.node.GetId())))
	}
	return nil
}

// refuse logs and counts a refused stream and returns its status.
func (s *guardedStream) refuse(code codes.Code, reason string, node *corev3.Node, err error) error {
	s.g.metrics.denied.WithLabelValues(reason).Inc()
	s.g.log.Warn("xDS stream refused", "peer", peerAddr(s.Context()), "node", clip(node.GetId()),
		"reason", reason, "code", code.String(), "error", clip(err.Error()))
	return status.Error(code, clip(err.Error()))
}

// unknownType counts a request for a type that is not served, logging it
// once per stream and type.
func (s *guardedStream) unknownType(typeURL string) {
	s.g.metrics.unknown.WithLabelValues(shortType(typeURL)).Inc()
	if s.loggedTypes[typeURL] || len(s.loggedTypes) >= len(shortTypes) {
		return // a client cycling through junk types is logged a few times, not each
	}
	s.loggedTypes[typeURL] = true
	s.g.log.Warn("proxy asked for a resource type trustgate does not serve; ignored",
		"peer", peerAddr(s.Context()), "node", clip(s.node.GetId()), "type", clip(typeURL))
}

// denyReason is the metric label of an Authorizer's error.
func denyReason(err error) string {
	var r interface{ DenyReason() string }
	if !errors.As(err, &r) {
		return reasonUnauthorized
	}
	if reason := r.DenyReason(); reasonLabel.MatchString(reason) {
		return reason
	}
	return reasonOther
}

// clip shortens client-chosen text for logs and statuses.
func clip(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	return strings.ToValidUTF8(s[:maxLogged], "") + "...(clipped)"
}
