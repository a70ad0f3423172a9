package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/pipeline"
	"github.com/trustgate/trustgate/xds/server"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	xdsAddr := fs.String("xds-addr", server.DefaultXDSAddr, "gRPC ADS listen `address`")
	adminAddr := fs.String("admin-addr", server.DefaultAdminAddr, "admin HTTP listen `address` (/healthz, /readyz, /metrics, /debug/...)")
	debounce := fs.Duration("debounce", server.DefaultDebounce, "quiet `time` after a file change before reloading")
	logLevel := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: trustgate serve [--config PATH...] [--secrets-dir DIR] [--xds-addr ADDR] [--admin-addr ADDR] [--debounce 100ms] [--log-level info]")
		fmt.Fprintln(fs.Output(), "\nServes the configuration over ADS (state of the world and delta), reloading on change;")
		fmt.Fprintln(fs.Output(), "a reload that fails keeps the last good configuration. Without --config it serves a")
		fmt.Fprintln(fs.Output(), "built-in example (an mTLS gateway on 127.0.0.1:8443 for Envoys labelled app=trustgate-default).")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError(stderr, fs, "--log-level: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	opts, err := cf.options(fs)
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
	err = server.Run(ctx, server.Options{
		Loader:     loader(opts, log),
		WatchPaths: opts.Paths,
		SecretsDir: opts.SecretsDir,
		Debounce:   *debounce,
		XDSAddr:    *xdsAddr,
		AdminAddr:  *adminAddr,
		Logger:     log,
	})
	if err != nil {
		log.Error("server stopped", "error", err)
		return 1
	}
	return 0
}

// loader adapts pipeline.Load to the server: every reload reads the files
// again; warnings are logged, errors keep the last good configuration.
func loader(opts model.LoadOptions, log *slog.Logger) server.Loader {
	return func() (server.Config, error) {
		started := time.Now()
		cfg, err := pipeline.Load(opts, pipeline.ForServe())
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				log.Error("configuration error", "error", line)
			}
			return nil, err
		}
		for _, w := range cfg.Warnings() {
			log.Warn("configuration warning", "warning", w)
		}
		log.Info("configuration loaded", "paths", opts.Paths, "took", time.Since(started).String())
		return cfg, nil
	}
}
