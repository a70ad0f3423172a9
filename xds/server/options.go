package server

import (
	"errors"
	"io"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/trustgate/trustgate/xds/translate"
)

// Config is one successfully loaded configuration.
type Config interface {
	// Compile returns the checked Envoy resources for the proxy group with these node labels.
	Compile(labels map[string]string) (*translate.Resources, error)
}

// GroupLister is implemented by a Config that knows the label sets of its
// proxy groups (the Gateway selectors). The server compiles those at every
// reload, before any proxy connects, so their snapshots are ready and their
// certificates' expiry shows on /metrics from the first load.
type GroupLister interface {
	Selectors() []map[string]string
}

// Loader loads the configuration. As Options.Loader it is called at start
// and by Reload; a Source (Options.Source) also says when to call it.
type Loader func() (Config, error)

// Defaults of Options.
const (
	DefaultXDSAddr         = "127.0.0.1:18000"
	DefaultAdminAddr       = "127.0.0.1:9902"
	DefaultShutdownTimeout = 5 * time.Second
	// DefaultMaxGroups bounds the proxy groups: distinct label sets are
	// few in a real fleet; a client inventing them is refused past this.
	DefaultMaxGroups = 1000
	// DefaultGroupGrace is how long a group outlives its last proxy, so
	// that a proxy reconnecting after a blip or a restart finds it
	// compiled. Envoy treats ResourceExhausted and Unavailable as
	// retriable (GrpcStream::isNonRetriableFailure in
	// source/extensions/config_subscription/grpc/grpc_stream.h) and
	// reconnects with back-off.
	DefaultGroupGrace = time.Minute
	// DefaultMaxConnections bounds the ADS listener's connections (one per
	// Envoy), below common file-descriptor limits so that the admin
	// endpoint and the configuration files keep theirs.
	DefaultMaxConnections = 4096
	// DefaultIdleTimeout closes an ADS connection with no stream open:
	// Envoy opens its stream as soon as it connects and keeps it.
	DefaultIdleTimeout = 30 * time.Second
)

// Options configure a Server.
type Options struct {
	// Source loads the configuration and says when to load it again
	// (source/file watches files). Exactly one of Source and Loader is
	// required.
	Source Source
	// Loader loads the configuration at start and on Reload only.
	Loader Loader
	// AllowEmptyGroups lets a reload take every listener away from a proxy
	// group that has connected proxies; otherwise such a reload is held
	// back (see hold.go).
	AllowEmptyGroups bool
	// RequireInitialConfig makes Serve return the error when the first
	// load fails, instead of waiting, not ready, for a good configuration.
	RequireInitialConfig bool
	// XDSAddr and AdminAddr are where Run listens (Serve takes listeners).
	XDSAddr   string
	AdminAddr string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// GRPCServerOptions are added after the server's own (message sizes,
	// stream limits, keepalive), e.g. grpc.Creds for xDS over TLS.
	GRPCServerOptions []grpc.ServerOption
	// Authorizer, when set, must accept the node of every stream's first
	// request; nil accepts any node (plaintext on loopback).
	Authorizer Authorizer
	// ShutdownTimeout bounds the graceful stop of the gRPC and admin servers.
	ShutdownTimeout time.Duration
	// MaxGroups caps the proxy groups (distinct label sets). A proxy whose
	// labels would make one more is refused with ResourceExhausted; the
	// groups the configuration declares (Gateway selectors) always exist.
	MaxGroups int
	// GroupGrace is how long a group with no connected proxy is kept
	// before it is freed. A reload frees such groups at once: their
	// configuration would be stale, and is compiled again if a proxy
	// comes back.
	GroupGrace time.Duration
	// MaxConnections caps the ADS listener's open connections; more are
	// closed as soon as accepted. It is lowered to what the process's
	// file-descriptor limit allows, keeping some for the rest.
	MaxConnections int
	// MaxStreams caps the ADS streams open at once (default MaxConnections);
	// more end with ResourceExhausted.
	MaxStreams int
	// IdleTimeout closes an ADS connection that has had no stream open for
	// this long: one that never opens one, or whose streams ended.
	IdleTimeout time.Duration
	// AdminHosts are host names, besides IP addresses and localhost, that
	// the admin endpoints answer (the Host header); others get 403.
	AdminHosts []string
}

func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Source == nil && o.Loader == nil:
		return o, errors.New("server: Options.Source or Options.Loader is required")
	case o.Source != nil && o.Loader != nil:
		return o, errors.New("server: Options.Source and Options.Loader exclude each other")
	case o.Source == nil:
		o.Source = loaderSource(o.Loader)
	}
	if o.XDSAddr == "" {
		o.XDSAddr = DefaultXDSAddr
	}
	if o.AdminAddr == "" {
		o.AdminAddr = DefaultAdminAddr
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = DefaultMaxGroups
	}
	if o.GroupGrace <= 0 {
		o.GroupGrace = DefaultGroupGrace
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = o.MaxConnections
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	return o, nil
}
