package server

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// gRPC limits, sized for big configurations and bad clients.
const (
	// maxMsgSize: Envoy has sent 21 MB responses for 50k routes
	// (envoy#36169), and a reconnecting Envoy's request listing
	// initial_resource_versions for every resource can be large too; gRPC's
	// default receive limit is 4 MiB.
	maxMsgSize = 64 << 20
	// maxStreams per connection: one ADS stream is all an Envoy needs.
	maxStreams = 16
)

// grpcOptions are the server's own gRPC options followed by the caller's.
func grpcOptions(extra []grpc.ServerOption) []grpc.ServerOption {
	return append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxMsgSize),
		grpc.MaxSendMsgSize(maxMsgSize),
		grpc.MaxConcurrentStreams(maxStreams),
		// Clients may ping every 15s at most, even with no stream open;
		// more often gets a GOAWAY (the bootstrap's keepalive is 30s).
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 15 * time.Second, PermitWithoutStream: true}),
		// Ping idle connections so a vanished proxy's stream is noticed.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
	}, extra...)
}
