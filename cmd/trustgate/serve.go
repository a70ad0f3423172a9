package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/trustgate/trustgate/pipeline"
	"github.com/trustgate/trustgate/source/file"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/xdstls"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	xdsAddr := fs.String("xds-addr", server.DefaultXDSAddr, "gRPC ADS listen `address`")
	adminAddr := fs.String("admin-addr", server.DefaultAdminAddr, "admin HTTP listen `address` (/healthz, /readyz, /metrics, /debug/...)")
	debounce := fs.Duration("debounce", file.DefaultDebounce, "quiet `time` after a file change before reloading")
	settle := fs.Duration("settle", file.DefaultSettle, "`time` a file written in place must stay unchanged before it is read (files renamed into place and Kubernetes ..data swaps are read at once)")
	allowEmpty := fs.Bool("allow-empty-groups", false, "let a reload remove every listener of a proxy group that has connected proxies (held back otherwise)")
	waitForConfig := fs.Bool("wait-for-config", false, "keep running, not ready, when the first configuration does not load (default: exit 1)")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	var lim limitFlags
	lim.register(fs)
	var sec xdsSecurityFlags
	sec.register(fs)
	var kf kubeFlags // serve_kubernetes.go
	kf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: trustgate serve [--config PATH...] [--secrets-dir DIR] [--short-names dns|kubernetes] [--xds-addr ADDR] [--admin-addr ADDR] [--debounce 100ms] [--settle 1s]")
		fmt.Fprintln(fs.Output(), "                       [--allow-empty-groups] [--wait-for-config] [--log-level info]")
		fmt.Fprintln(fs.Output(), "                       [--xds-cert FILE --xds-key FILE --xds-client-ca FILE [--xds-authz FILE] | --insecure-xds]")
		fmt.Fprintln(fs.Output(), "                       [--max-groups 1000] [--group-grace 1m] [--max-connections 4096] [--max-streams N] [--xds-idle-timeout 30s] [--admin-host NAME...]")
		fmt.Fprintln(fs.Output(), "       trustgate serve --kubernetes [--kubeconfig FILE] [--namespaces NS,...] [--secret-selector SEL] [--cluster-domain DOMAIN]")
		fmt.Fprintln(fs.Output(), "                       [--webhook-addr ADDR --webhook-cert FILE --webhook-key FILE] [--status=true] [--lease-name NAME] [the flags above but --config]")
		fmt.Fprintln(fs.Output(), "\nServes the configuration over ADS (state of the world and delta), reloading on change and")
		fmt.Fprintln(fs.Output(), "on SIGHUP; a reload that fails keeps the last good configuration. Write files atomically")
		fmt.Fprintln(fs.Output(), "(write elsewhere, then rename into place): a file written in place is read only once it")
		fmt.Fprintln(fs.Output(), "has not changed for --settle. A reload that would remove every listener of a group with")
		fmt.Fprintln(fs.Output(), "connected proxies, or replace a valid certificate or CRL with an expired one, is held back.")
		fmt.Fprintln(fs.Output(), "Exits 1 when the first configuration does not load, unless --wait-for-config. Without")
		fmt.Fprintln(fs.Output(), "--config it serves a built-in example (an mTLS gateway on 127.0.0.1:8443 for Envoys")
		fmt.Fprintln(fs.Output(), "labelled app=trustgate-default).")
		fmt.Fprintln(fs.Output(), "\nSDS hands private keys to the proxies, so ADS is plaintext only on loopback (or with")
		fmt.Fprintln(fs.Output(), "--insecure-xds). With --xds-cert, --xds-key and --xds-client-ca it requires a client")
		fmt.Fprintln(fs.Output(), "certificate, and a proxy's node id must be one of the certificate's identities (URI SANs,")
		fmt.Fprintln(fs.Output(), "then DNS SANs, then the subject CN; an id with a scheme, such as spiffe://, only from a URI")
		fmt.Fprintln(fs.Output(), "SAN); --xds-authz binds identities to the labels they may")
		fmt.Fprintln(fs.Output(), "claim (a YAML list of {identity: ID or PREFIX*, labels: {k: v}}). The files reload on change.")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError(stderr, fs, "--log-level: %v", err)
	}
	if err := sec.check(*xdsAddr); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if err := lim.check(); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	if err := kf.check(&cf, fs); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	grpcOpts, authz, err := sec.wire(*xdsAddr, *adminAddr, log)
	if err != nil {
		fmt.Fprintln(stderr, "trustgate serve:", err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	crls := newCRLWatch(log, pipeline.DefaultExpiryWarning) // CRLs expire while the files stay the same
	go crls.run(ctx, crlWatchInterval)
	var src server.Source
	if kf.enabled { // the Kubernetes API, with its webhook and status writer
		ks, done, err := kf.start(ctx, cf.clusterDomain, *debounce, crls, log)
		if err != nil {
			log.Error("server stopped", "error", err)
			return 1
		}
		defer done()
		src = ks
	} else {
		opts, err := cf.options(fs)
		if err != nil && !errors.Is(err, errNoConfig) {
			return usageError(stderr, fs, "%v", err)
		}
		if err != nil { // no --config: the built-in example
			cleanup, dopts, derr := defaultConfig(log)
			if derr != nil {
				fmt.Fprintln(stderr, "trustgate serve: default configuration:", derr)
				return 1
			}
			defer cleanup()
			opts = dopts
		}
		fsrc, err := file.New(file.Options{
			Input:    opts,
			Load:     crls.wrap(file.Loader(opts, log)),
			Debounce: *debounce,
			Settle:   *settle,
			Logger:   log,
		})
		if err != nil {
			log.Error("server stopped", "error", err)
			return 1
		}
		src = fsrc
	}
	srv, err := server.New(server.Options{
		Source:    src,
		XDSAddr:   *xdsAddr,
		AdminAddr: *adminAddr,
		Logger:    log,

		AllowEmptyGroups:     *allowEmpty,
		RequireInitialConfig: !*waitForConfig,
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
		return 1
	}
	return 0
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

func (f *xdsSecurityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cert, "xds-cert", "", "certificate chain `FILE` of the ADS endpoint (mutual TLS, with --xds-key and --xds-client-ca; reloaded on change)")
	fs.StringVar(&f.key, "xds-key", "", "private key `FILE` of --xds-cert")
	fs.StringVar(&f.clientCA, "xds-client-ca", "", "CA `FILE` that verifies proxies' client certificates (reloaded on change)")
	fs.StringVar(&f.authz, "xds-authz", "", "policy `FILE` binding proxy identities to the node labels they may claim (reloaded on change)")
	fs.BoolVar(&f.insecure, "insecure-xds", false, "serve plaintext ADS on an address other than loopback: anyone who reaches it gets every private key")
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
	adminHosts                      stringList
}

func (f *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.maxGroups, "max-groups", server.DefaultMaxGroups, "most proxy groups (distinct label sets); a proxy with new labels past it is refused (ResourceExhausted)")
	fs.DurationVar(&f.groupGrace, "group-grace", server.DefaultGroupGrace, "how long a proxy group with no proxy connected is kept; a reload frees such groups at once")
	fs.IntVar(&f.maxConns, "max-connections", server.DefaultMaxConnections, "most open ADS connections; more are closed as accepted (lowered to fit the open-file limit)")
	fs.IntVar(&f.maxStreams, "max-streams", 0, "most ADS streams open at once; more end with ResourceExhausted (default: --max-connections)")
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
