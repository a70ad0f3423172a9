package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
)

// Server serves the configuration over ADS, reloads it on change and answers
// the admin endpoints.
type Server struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	caches  *caches
	groups  *groups
	proxies *proxies
	reloads reloads
	held    *holds

	reloadMu sync.Mutex  // serialises Reload
	ready    atomic.Bool // a configuration was loaded
	// loaded receives the outcome of the first reload that was not
	// dropped (ErrInputsChanged), for firstLoad.
	loaded    chan error
	firstDone sync.Once

	hostRefusals *rateLog // admin requests refused for their Host
}

// New checks the options and builds a Server; nothing runs until Serve.
func New(opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, metrics: newMetrics(), hostRefusals: newRateLog(opts.Logger, 10*time.Second),
		loaded: make(chan error, 1)}
	s.caches = newCaches()
	s.proxies = newProxies(s.metrics)
	s.groups = newGroups(s.caches, s.log, s.metrics, opts, s.installed)
	s.held = newHolds(s.metrics.registry)
	s.groups.vet = s.vet
	return s, nil
}

// Run listens on Options.XDSAddr and Options.AdminAddr and serves until ctx
// ends.
func Run(ctx context.Context, opts Options) error {
	s, err := New(opts)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// Run listens on Options.XDSAddr and Options.AdminAddr and serves until ctx
// ends.
func (s *Server) Run(ctx context.Context) error {
	xdsLis, err := net.Listen("tcp", s.opts.XDSAddr)
	if err != nil {
		return err
	}
	adminLis, err := net.Listen("tcp", s.opts.AdminAddr)
	if err != nil {
		return errors.Join(err, xdsLis.Close())
	}
	return s.Serve(ctx, xdsLis, adminLis)
}

// Serve loads the configuration, then serves ADS on xdsLis and the admin
// endpoints on adminLis (nil: none) until ctx ends, reloading whenever the
// Source says so. A first configuration that fails to load is an error
// with Options.RequireInitialConfig; otherwise the server waits, not
// ready, for a good one. On return both listeners are
// closed: ADS streams are ended (proxies reconnect elsewhere), then the gRPC
// server stops gracefully within Options.ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, xdsLis, adminLis net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.log.Info("serving", "xds", xdsLis.Addr().String(), "admin", addrOf(adminLis))
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 3) // the source's watch, ADS, admin
	// The source watches from before the first load: a load it drops is
	// done again by the source (see firstLoad). Reload logs and records
	// its errors.
	wg.Go(func() {
		if err := s.opts.Source.Watch(ctx, func() { _ = s.Reload(ctx) }); err != nil {
			errs <- fmt.Errorf("watching the configuration: %w", err)
		}
	})
	loadErr, err := s.firstLoad(ctx, errs)
	switch {
	case err != nil:
		cancel()
		return errors.Join(err, xdsLis.Close(), closeListener(adminLis))
	case loadErr != nil && s.opts.RequireInitialConfig:
		cancel()
		return errors.Join(fmt.Errorf("the first configuration did not load: %w", loadErr), xdsLis.Close(), closeListener(adminLis))
	case loadErr != nil:
		s.log.Warn("no configuration yet: proxies get nothing until a reload succeeds")
	}
	wg.Go(func() { s.retryHeld(ctx) })

	wg.Go(func() { s.groups.sweepEvery(ctx) })

	conns := newConnLimiter(xdsLis, fdBound(s.opts.MaxConnections, s.log), s.opts.IdleTimeout, s.metrics, s.log)
	xdsLis = conns
	gd := &guard{auth: s.opts.Authorizer, metrics: s.metrics, log: s.log,
		conns: conns, maxStreams: int64(s.opts.MaxStreams), refusals: newRateLog(s.log, 10*time.Second)}
	names := newRequestNames() // the codec decodes, the streams ask it of names decoded
	g := grpc.NewServer(grpcOptions(gd, names, s.opts.GRPCServerOptions)...)
	cb := &callbacks{ctx: ctx, groups: s.groups, proxies: s.proxies, names: names, metrics: s.metrics, log: s.log}
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, &ads{ctx: ctx, caches: s.caches, cb: cb, names: names})

	wg.Go(func() { errs <- ignoreClosed(g.Serve(xdsLis)) })
	var admin *http.Server
	if adminLis != nil {
		profiles := loopbackListener(adminLis)
		s.log.Info("admin endpoints", "admin", adminLis.Addr().String(), "pprof", profiles) // Go's profiles on loopback only
		admin = &http.Server{Handler: s.adminHandler(profiles), ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout: 10 * time.Second, WriteTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
		wg.Go(func() { errs <- ignoreClosed(admin.Serve(adminLis)) })
	}

	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	if err != nil {
		s.log.Error("shutting down", "error", err)
	} else {
		s.log.Info("shutting down")
	}
	cancel() // ends every ADS stream (ads.go returns when its context ends)
	s.shutdown(g, admin)
	return err
}

func (s *Server) shutdown(g *grpc.Server, admin *http.Server) {
	timeout := time.NewTimer(s.opts.ShutdownTimeout)
	defer timeout.Stop()
	stopped := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-timeout.C:
		s.log.Warn("gRPC graceful stop timed out; closing connections")
		g.Stop()
		<-stopped
	}
	if admin == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := admin.Shutdown(ctx); err != nil {
		s.log.Warn("admin server shutdown", "error", err)
	}
}

// installed refreshes what depends on the set of served snapshots.
func (s *Server) installed() {
	for _, err := range s.metrics.setSecrets(s.groups.resources()) {
		s.log.Warn("certificate metrics", "error", err)
	}
	s.proxies.forgetSecrets(func(group string) string {
		if snap := s.groups.current(group); snap != nil {
			return snap.versions[resource.SecretType]
		}
		return ""
	})
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

func closeListener(l net.Listener) error {
	if l == nil {
		return nil
	}
	return l.Close()
}
