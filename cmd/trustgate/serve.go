package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/xdstls"
)

func newServeCmd() *cobra.Command {
	var sf serveCmdFlags
	cmd := &cobra.Command{
		Use:   "serve [[--config] PATH...]",
		Short: "serve the configuration to Envoy over ADS, reloading on change",
		Long: "Serves the configuration over ADS (state of the world and delta), reloading on change and\n" +
			"on SIGHUP; a reload that fails keeps the last good configuration. Write files atomically\n" +
			"(write elsewhere, then rename into place): a file written in place is read only once it\n" +
			"has not changed for --settle. A reload that would remove every listener of a group with\n" +
			"connected proxies, or replace a valid certificate or CRL with an expired one, is held back.\n" +
			"Exits 1 when the first configuration does not load, unless --wait-for-config. Without\n" +
			"configuration paths it serves a built-in example (an mTLS gateway on 127.0.0.1:8443 for Envoys\n" +
			"labelled app=trustgate-default).\n\n" +
			"SDS hands private keys to the proxies, so ADS is plaintext only on loopback (or with\n" +
			"--insecure-xds). With --xds-cert, --xds-key and --xds-client-ca it requires a client\n" +
			"certificate, and a proxy's node id must be one of the certificate's identities (URI SANs,\n" +
			"then DNS SANs, then the subject CN; an id with a scheme, such as spiffe://, only from a URI\n" +
			"SAN); --xds-authz binds identities to the labels they may claim (a YAML list of\n" +
			"{identity: ID or PREFIX*, labels: {k: v}}). The files reload on change.\n\n" +
			"With --kubernetes it reads the configuration from the Kubernetes API instead of files (in the\n" +
			"cluster, or with --kubeconfig), writes the objects' status and answers the admission webhook;\n" +
			"--config and --secrets-dir do not apply, short names follow Istio's rule.\n\n" +
			"The admin endpoint serves /healthz, /readyz, /metrics and /debug/...; on a loopback address\n" +
			"also Go's profiles under /debug/pprof/.",
	}
	sf.config.register(cmd)
	sf.serve.register(cmd)
	sf.limits.register(cmd.Flags())
	sf.security.register(cmd)
	sf.kube.register(cmd) // serve_kubernetes.go
	cmd.RunE = action(func(cmd *cobra.Command, args []string) error { return serve(cmd, args, &sf) })
	return cmd
}

// serveCmdFlags are all of serve's flags.
type serveCmdFlags struct {
	config   configFlags
	serve    serveFlags
	limits   limitFlags
	security xdsSecurityFlags
	kube     kubeFlags
}

// kubernetesDebounce is --debounce with --kubernetes when not given: a
// GitOps sync applies objects one API call after another, tens of
// milliseconds apart, and should still be one reload (the files' 50 ms
// default gathers renames made within milliseconds; source/file).
const kubernetesDebounce = 100 * time.Millisecond

// serveFlags are serve's own flags.
type serveFlags struct {
	xdsAddr, adminAddr, logLevel string
	debounce, settle             time.Duration
	allowEmpty, waitForConfig    bool
}

func (f *serveFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.xdsAddr, "xds-addr", server.DefaultXDSAddr, "gRPC ADS listen `address`")
	fs.StringVar(&f.adminAddr, "admin-addr", server.DefaultAdminAddr, "admin HTTP listen `address` (/healthz, /readyz, /metrics, /debug/...; /debug/pprof/ on loopback only)")
	fs.DurationVar(&f.debounce, "debounce", file.DefaultDebounce, "quiet `time` after a change before reloading (with --kubernetes: 100ms unless given)")
	fs.DurationVar(&f.settle, "settle", file.DefaultSettle, "`time` a file written in place must stay unchanged before it is read (files renamed into place and Kubernetes ..data swaps are read at once)")
	fs.BoolVar(&f.allowEmpty, "allow-empty-groups", false, "let a reload remove every listener of a proxy group that has connected proxies (held back otherwise)")
	fs.BoolVar(&f.waitForConfig, "wait-for-config", false, "keep running, not ready, when the first configuration does not load (default: exit 1)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	enumFlag(cmd, "log-level", "debug", "info", "warn", "error")
}

// serve runs the server until SIGINT or SIGTERM.
func serve(cmd *cobra.Command, args []string, sf *serveCmdFlags) error {
	cf, f, lim, sec, kf := &sf.config, &sf.serve, &sf.limits, &sf.security, &sf.kube
	stderr := cmd.ErrOrStderr()
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usagef("--log-level: %v", err)
	}
	if err := sec.check(f.xdsAddr); err != nil {
		return usageError{err}
	}
	if err := lim.check(); err != nil {
		return usageError{err}
	}
	if err := kf.check(cf, cmd, args); err != nil {
		return usageError{err}
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	grpcOpts, authz, err := sec.wire(f.xdsAddr, f.adminAddr, log)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	crls := newCRLWatch(log, compile.DefaultExpiryWarning) // CRLs expire while the files stay the same
	go crls.run(ctx, crlWatchInterval)
	var src server.Source
	if kf.enabled { // the Kubernetes API, with its webhook and status writer
		debounce := f.debounce
		if !cmd.Flags().Changed("debounce") {
			debounce = kubernetesDebounce
		}
		ks, done, err := kf.start(ctx, cf.clusterDomain, debounce, crls, log)
		if err != nil {
			log.Error("server stopped", "error", err)
			return exitCode(1)
		}
		defer done()
		src = ks
	} else {
		fsrc, cleanup, err := fileSource(cf, f, args, crls, log)
		if err != nil {
			return err
		}
		defer cleanup()
		src = fsrc
	}
	srv, err := server.New(server.Options{
		Source:    src,
		XDSAddr:   f.xdsAddr,
		AdminAddr: f.adminAddr,
		Logger:    log,

		AllowEmptyGroups:     f.allowEmpty,
		RequireInitialConfig: !f.waitForConfig,
		GRPCServerOptions:    grpcOpts,
		Authorizer:           authz,

		MaxGroups:      lim.maxGroups,
		GroupGrace:     lim.groupGrace,
		MaxConnections: lim.maxConns,
		MaxStreams:     lim.maxStreams,
		IdleTimeout:    lim.idle,
		AdminHosts:     lim.adminHosts,
	})
	if err == nil {
		go reloadOnHangup(ctx, srv)
		err = srv.Run(ctx)
	}
	if err != nil {
		log.Error("server stopped", "error", err)
		return exitCode(1)
	}
	return nil
}

// fileSource is the source of the configuration paths, or of the built-in
// example when there are none; cleanup removes the example's files.
func fileSource(cf *configFlags, f *serveFlags, args []string, crls *crlWatch, log *slog.Logger) (src server.Source, cleanup func(), err error) {
	cleanup = func() {}
	opts, err := cf.options(args)
	if err != nil && !errors.Is(err, errNoConfig) {
		return nil, nil, usageError{err}
	}
	if err != nil { // no configuration paths: the built-in example
		ex, dopts, derr := defaultConfig(log)
		if derr != nil {
			return nil, nil, fmt.Errorf("default configuration: %w", derr)
		}
		cleanup, opts = ex, dopts
	}
	fsrc, err := file.New(file.Options{
		Input:    opts,
		Load:     crls.wrap(file.Loader(opts, log)),
		Debounce: f.debounce,
		Settle:   f.settle,
		Logger:   log,
	})
	if err != nil {
		cleanup()
		log.Error("server stopped", "error", err)
		return nil, nil, exitCode(1)
	}
	return fsrc, cleanup, nil
}

// reloadOnHangup reloads on SIGHUP until ctx ends (Reload logs and records
// its outcome).
func reloadOnHangup(ctx context.Context, srv *server.Server) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = srv.Reload(ctx)
		}
	}
}

// xdsSecurityFlags choose how the ADS endpoint is secured.
type xdsSecurityFlags struct {
	cert, key, clientCA, authz string
	insecure                   bool
}

func (f *xdsSecurityFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.cert, "xds-cert", "", "certificate chain `FILE` of the ADS endpoint (mutual TLS, with --xds-key and --xds-client-ca; reloaded on change)")
	fs.StringVar(&f.key, "xds-key", "", "private key `FILE` of --xds-cert")
	fs.StringVar(&f.clientCA, "xds-client-ca", "", "CA `FILE` that verifies proxies' client certificates (reloaded on change)")
	fs.StringVar(&f.authz, "xds-authz", "", "policy `FILE` binding proxy identities to the node labels they may claim (reloaded on change)")
	fs.BoolVar(&f.insecure, "insecure-xds", false, "serve plaintext ADS on an address other than loopback: anyone who reaches it gets every private key")
	for _, name := range []string{"xds-cert", "xds-key", "xds-client-ca", "xds-authz"} {
		_ = cmd.MarkFlagFilename(name) // completion hint; the flag exists
	}
}

func (f *xdsSecurityFlags) tls() bool { return f.cert != "" || f.key != "" || f.clientCA != "" }

// check rejects inconsistent flags and plaintext ADS off loopback.
func (f *xdsSecurityFlags) check(xdsAddr string) error {
	switch {
	case f.tls() && (f.cert == "" || f.key == "" || f.clientCA == ""):
		return errors.New("--xds-cert, --xds-key and --xds-client-ca go together: proxies must present a client certificate")
	case f.tls() && f.insecure:
		return errors.New("--insecure-xds contradicts --xds-cert")
	case f.authz != "" && !f.tls():
		return errors.New("--xds-authz needs mutual TLS (--xds-cert, --xds-key, --xds-client-ca): without it there is no identity to bind")
	case !f.tls() && !f.insecure:
		return xdstls.CheckPlaintextAddr(xdsAddr)
	}
	return nil
}

// wire returns the server's TLS credentials and node authorizer, and says
// at start-up what protects the private keys.
func (f *xdsSecurityFlags) wire(xdsAddr, adminAddr string, log *slog.Logger) ([]grpc.ServerOption, server.Authorizer, error) {
	if loopback, err := xdstls.IsLoopback(adminAddr); err == nil && !loopback {
		log.Warn("the admin endpoint is not on loopback: its /debug pages show the configuration and certificates (never private keys)", "admin", adminAddr)
	}
	if !f.tls() {
		if f.insecure {
			log.Warn("plaintext xDS (--insecure-xds): anyone who can reach this address can read every private key", "xds", xdsAddr)
		} else {
			log.Info("plaintext xDS on loopback: any local process can read the private keys", "xds", xdsAddr)
		}
		return nil, nil, nil
	}
	st, err := xdstls.NewServerTLS(xdstls.Files{Cert: f.cert, Key: f.key, ClientCA: f.clientCA}, log)
	if err != nil {
		return nil, nil, err
	}
	authz, err := xdstls.NewAuthorizer(f.authz, log)
	if err != nil {
		return nil, nil, err
	}
	if f.authz == "" {
		log.Warn("xDS over mutual TLS without --xds-authz: a proxy's node id must match its certificate, but any authenticated proxy may claim any labels, and so receive any proxy group's private keys")
	} else {
		log.Info("xDS over mutual TLS: node ids must match client certificates, labels must match --xds-authz", "authz", f.authz)
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(st.Config()))}, authz, nil
}

// limitFlags bound what clients can make the server hold.
type limitFlags struct {
	maxGroups, maxConns, maxStreams int
	groupGrace, idle                time.Duration
	adminHosts                      listFlag
}

func (f *limitFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.maxGroups, "max-groups", server.DefaultMaxGroups, "most proxy groups (distinct label sets), `N`; a proxy with new labels past it is refused (ResourceExhausted)")
	fs.DurationVar(&f.groupGrace, "group-grace", server.DefaultGroupGrace, "how long a proxy group with no proxy connected is kept; a reload frees such groups at once")
	fs.IntVar(&f.maxConns, "max-connections", server.DefaultMaxConnections, "most open ADS connections, `N`; more are closed as accepted (lowered to fit the open-file limit)")
	fs.IntVar(&f.maxStreams, "max-streams", 0, "most ADS streams open at once, `N`; more end with ResourceExhausted (default: --max-connections)")
	fs.DurationVar(&f.idle, "xds-idle-timeout", server.DefaultIdleTimeout, "close an ADS connection with no stream open for this `time`")
	fs.Var(&f.adminHosts, "admin-host", "host `NAME` the admin endpoints answer besides IP addresses and localhost (repeatable): other Host headers get 403, against DNS rebinding")
}

// check rejects negative limits (zero takes the default).
func (f *limitFlags) check() error {
	for name, v := range map[string]int64{
		"--max-groups": int64(f.maxGroups), "--max-connections": int64(f.maxConns), "--max-streams": int64(f.maxStreams),
		"--group-grace": int64(f.groupGrace), "--xds-idle-timeout": int64(f.idle),
	} {
		if v < 0 {
			return fmt.Errorf("%s must not be negative", name)
		}
	}
	return nil
}
