package translate

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Limits from Envoy's "Configuring Envoy as an edge proxy" page
// (docs/root/configuration/best_practices/edge.rst and its
// _include/edge.yaml). Envoy's defaults suit a service mesh, where peers
// are trusted; at the edge they let one client hold megabytes of buffers or
// thousands of streams. The bootstrap (xds/bootstrap) adds the overload
// manager and the global connection limit; README.md lists every setting.
const (
	// perConnectionBufferLimit caps each connection's read and write
	// buffers (Envoy's default is 1 MiB) on every listener and cluster.
	perConnectionBufferLimit = 32 << 10
	// http2MaxConcurrentStreams caps the streams of one client connection
	// (Envoy's default is 2^31 - 1).
	http2MaxConcurrentStreams = 100
	// http2StreamWindow and http2ConnectionWindow are the initial HTTP/2
	// flow-control windows (Envoy's defaults are 256 MiB each).
	http2StreamWindow     = 64 << 10
	http2ConnectionWindow = 1 << 20
	// connectionIdleTimeout closes a downstream connection without streams
	// (Envoy's default for the HTTP connection manager, made explicit).
	connectionIdleTimeout = time.Hour
	// streamIdleTimeout resets a stream that sends and receives nothing
	// (Envoy's default, made explicit).
	streamIdleTimeout = 5 * time.Minute
	// requestHeadersTimeout bounds the time a client takes to send a
	// request's headers (off by Envoy's default), so a slow client cannot
	// hold a stream open without ever making a request. The page's
	// request_timeout (whole request, 300 s) is not set: it would end every
	// WebSocket, gRPC client stream and upload longer than 5 minutes.
	requestHeadersTimeout = 10 * time.Second
)

// bufferLimit is the per-connection buffer limit of listeners and clusters.
func bufferLimit() *wrapperspb.UInt32Value { return wrapperspb.UInt32(perConnectionBufferLimit) }

// downstreamHTTP2 limits what one client connection can open and make
// Envoy buffer.
func downstreamHTTP2() *corev3.Http2ProtocolOptions {
	o := upstreamHTTP2()
	o.MaxConcurrentStreams = wrapperspb.UInt32(http2MaxConcurrentStreams)
	return o
}

// upstreamHTTP2 sets the flow-control windows towards HTTP/2 backends.
func upstreamHTTP2() *corev3.Http2ProtocolOptions {
	return &corev3.Http2ProtocolOptions{
		InitialStreamWindowSize:     wrapperspb.UInt32(http2StreamWindow),
		InitialConnectionWindowSize: wrapperspb.UInt32(http2ConnectionWindow),
	}
}
