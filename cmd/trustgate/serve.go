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

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/pipeline"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/xdstls"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	xdsAddr := fs.String("xds-addr", server.DefaultXDSAddr, "gRPC ADS listen `address`")
	adminAddr := fs.String("admin-addr", server.DefaultAdminAddr, "admin HTTP listen `address` (/healthz, /readyz, /metrics, /debug/...)")
	debounce := fs.Duration("debounce", server.DefaultDebounce, "quiet `time` after a file change before reloading")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	var sec xdsSecurityFlags
	sec.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: trustgate serve [--config PATH...] [--secrets-dir DIR] [--short-names dns|kubernetes] [--xds-addr ADDR] [--admin-addr ADDR] [--debounce 100ms] [--log-level info]")
		fmt.Fprintln(fs.Output(), "                       [--xds-cert FILE --xds-key FILE --xds-client-ca FILE [--xds-authz FILE] | --insecure-xds]")
		fmt.Fprintln(fs.Output(), "\nServes the configuration over ADS (state of the world and delta), reloading on change;")
		fmt.Fprintln(fs.Output(), "a reload that fails keeps the last good configuration. Without --config it serves a")
		fmt.Fprintln(fs.Output(), "built-in example (an mTLS gateway on 127.0.0.1:8443 for Envoys labelled app=trustgate-default).")
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
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	grpcOpts, authz, err := sec.wire(*xdsAddr, *adminAddr, log)
	if err != nil {
		fmt.Fprintln(stderr, "trustgate serve:", err)
		return 1
	}

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	crls := newCRLWatch(log, pipeline.DefaultExpiryWarning) // CRLs expire while the files stay the same
	go crls.run(ctx, crlWatchInterval)
	err = server.Run(ctx, server.Options{
		Loader:     crls.wrap(loader(opts, log)),
		WatchPaths: opts.Paths,
		SecretsDir: opts.SecretsDir,
		Debounce:   *debounce,
		XDSAddr:    *xdsAddr,
		AdminAddr:  *adminAddr,
		Logger:     log,

		GRPCServerOptions: grpcOpts,
		Authorizer:        authz,
	})
	if err != nil {
		log.Error("server stopped", "error", err)
		return 1
	}
	return 0
}

// loader adapts pipeline.Load to the server: every reload reads the files
// again; warnings are logged here, errors by the server's Reload (one line
// each), which keeps the last good configuration.
func loader(opts model.LoadOptions, log *slog.Logger) server.Loader {
	return func() (server.Config, error) {
		cfg, err := pipeline.Load(opts, pipeline.ForServe())
		if err != nil {
			return nil, err
		}
		for _, w := range cfg.Warnings() {
			log.Warn("configuration warning", "warning", w)
		}
		return cfg, nil
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
