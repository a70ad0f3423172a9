package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/trustgate/trustgate/xds/bootstrap"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/xdstls"
)

// runBootstrap prints an Envoy bootstrap that connects to trustgate.
func runBootstrap(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	nodeID := fs.String("node-id", "", "the node `ID` Envoy announces (required)")
	labelFlag := fs.String("labels", "", "node labels `k=v,...`; proxies with equal labels share a configuration")
	cluster := fs.String("cluster", "trustgate", "the node `cluster` Envoy announces")
	xdsAddr := fs.String("xds-addr", server.DefaultXDSAddr, "trustgate's ADS `host:port`")
	delta := fs.Bool("delta", false, "use incremental (delta) ADS instead of state of the world")
	adminPort := fs.Uint("admin-port", 9901, "Envoy's admin `port` on 127.0.0.1")
	xdsCA := fs.String("xds-ca", "", "CA `file` that verifies trustgate's certificate; enables TLS to trustgate")
	xdsCert := fs.String("xds-cert", "", "client certificate `file` Envoy presents to trustgate (with --xds-key)")
	xdsKey := fs.String("xds-key", "", "private key `file` of --xds-cert")
	maxHeap := fs.Uint64("max-heap", bootstrap.DefaultMaxHeapBytes, "heap `bytes` Envoy's overload manager protects: it shrinks the heap at 95% and answers new requests with 503 at 98%; set it to Envoy's memory limit")
	maxConns := fs.Uint64("max-connections", bootstrap.DefaultMaxConnections, "downstream connections Envoy accepts across all listeners (`N`)")
	insecure := fs.Bool("insecure-xds", false, "allow plaintext xDS to an address other than loopback: anyone on the path reads every private key sent to the proxy")
	outFile := fs.String("o", "", "write the bootstrap to `FILE` instead of standard output (an init container without a shell)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: trustgate bootstrap --node-id ID [--labels k=v,...] [--cluster NAME] [--xds-addr host:port] [--delta] [--admin-port N] [--max-heap BYTES] [--max-connections N] [--xds-ca FILE [--xds-cert FILE --xds-key FILE] | --insecure-xds]")
		fmt.Fprintln(fs.Output(), "\nPrints an Envoy bootstrap (YAML) that takes listeners and clusters from trustgate over ADS")
		fmt.Fprintln(fs.Output(), "through an HTTP/2 cluster named xds_cluster, announcing the node labels. File paths are")
		fmt.Fprintln(fs.Output(), "written as given: they are read by Envoy, not by this command. SDS sends the proxy its private")
		fmt.Fprintln(fs.Output(), "keys, so a plaintext bootstrap (no --xds-ca) to an address other than loopback is refused")
		fmt.Fprintln(fs.Output(), "unless --insecure-xds is given.")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fs, "unexpected arguments %q", fs.Args())
	}
	if *nodeID == "" {
		return usageError(stderr, fs, "--node-id is required")
	}
	l, err := parseLabels(*labelFlag)
	if err != nil {
		return usageError(stderr, fs, "--labels: %v", err)
	}
	opts := bootstrap.Options{
		NodeID: *nodeID, Cluster: *cluster, Labels: l, XDSAddr: *xdsAddr, Delta: *delta,
		AdminPort:    uint32(min(*adminPort, 1<<32-1)), // saturate, not wrap: Generate rejects >65535
		MaxHeapBytes: *maxHeap, MaxConnections: *maxConns,
	}
	if *xdsCA != "" || *xdsCert != "" || *xdsKey != "" {
		opts.TLS = &bootstrap.TLSFiles{CA: *xdsCA, Cert: *xdsCert, Key: *xdsKey}
	}
	if err := checkPlaintext(opts, *insecure, stderr); err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	b, err := bootstrap.Generate(opts)
	if errors.Is(err, bootstrap.ErrOptions) {
		return usageError(stderr, fs, "%v", err)
	}
	if err != nil {
		fmt.Fprintln(stderr, "trustgate bootstrap:", err)
		return 1
	}
	y, err := bootstrap.YAML(b)
	switch {
	case err == nil && *outFile != "":
		// Envoy may run as another user than this command; the bootstrap
		// holds no secret (the TLS files are named, not inlined).
		err = os.WriteFile(*outFile, y, 0o644) //nolint:gosec // G306: readable by Envoy, nothing secret
	case err == nil:
		_, err = stdout.Write(y)
	}
	if err != nil {
		fmt.Fprintln(stderr, "trustgate bootstrap:", err)
		return 1
	}
	return 0
}

// checkPlaintext refuses a plaintext bootstrap to an address other than
// loopback, where the private keys SDS sends would cross the network in the
// clear, unless insecure says so (then it warns).
func checkPlaintext(opts bootstrap.Options, insecure bool, stderr io.Writer) error {
	if opts.TLS != nil {
		if insecure {
			return errors.New("--insecure-xds contradicts --xds-ca, --xds-cert and --xds-key")
		}
		return nil
	}
	loopback, err := xdstls.IsLoopback(opts.XDSAddr)
	if err != nil || loopback {
		return nil // a malformed address is bootstrap.Generate's to report
	}
	if !insecure {
		return fmt.Errorf("--xds-addr %s is not on loopback and the bootstrap has no TLS: Envoy would receive its private keys in plaintext; "+
			"add --xds-ca (with --xds-cert and --xds-key for mutual TLS), or --insecure-xds", opts.XDSAddr)
	}
	fmt.Fprintf(stderr, "trustgate bootstrap: warning: plaintext xDS to %s (--insecure-xds): anyone on the path can read every private key sent to this proxy\n", opts.XDSAddr)
	return nil
}
