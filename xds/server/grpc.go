package server

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/trustgate/trustgate/xds/sendlimit"
)

// gRPC limits, sized for big configurations and bad clients.
const (
	// maxSendMsgSize bounds one response (gRPC's default send limit is
	// unbounded; its 4 MiB default applies to receiving). Every snapshot is
	// checked against it before it is installed (sendlimit), so a send
	// over it is refused at reload instead of failing at push.
	maxSendMsgSize = sendlimit.MaxResponseBytes
	// maxRecvMsgSize bounds what gRPC reads into memory for one request
	// (refused with ResourceExhausted before it is read); it is above
	// maxRequestBytes so that a request between the two gets the guard's
	// InvalidArgument, which names the limit.
	maxRecvMsgSize = 2 * maxRequestBytes
	// maxStreams per connection: one ADS stream is all an Envoy needs.
	maxStreams = 16
	// readBufferSize is each connection's read buffer (gRPC's default is
	// 32 KiB, half of what a connected proxy cost once the streams' own
	// state was shared within groups: docs/performance.md). A proxy sends
	// little (requests and ACKs); a large request takes a few more reads.
	readBufferSize = 8 << 10
	// handshakeTimeout bounds a connection that never completes its TLS
	// and HTTP/2 handshakes (gRPC's default waits 120s).
	handshakeTimeout = 10 * time.Second
)

// grpcOptions are the server's own gRPC options followed by the caller's.
func grpcOptions(g *guard, names *requestNames, extra []grpc.ServerOption) []grpc.ServerOption {
	return append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecvMsgSize),
		grpc.MaxSendMsgSize(maxSendMsgSize),
		grpc.MaxConcurrentStreams(maxStreams),
		grpc.ReadBufferSize(readBufferSize),
		grpc.ConnectionTimeout(handshakeTimeout),
		// Clients may ping every 15s at most, even with no stream open;
		// more often gets a GOAWAY (the bootstrap's keepalive is 30s).
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 15 * time.Second, PermitWithoutStream: true}),
		// Ping idle connections so a vanished proxy's stream is noticed.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.ChainStreamInterceptor(g.intercept),
		newSharedCodec(names), // shared SotW responses go out uncopied (codec.go)
	}, extra...)
}
