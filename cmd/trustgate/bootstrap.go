package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trustgate/trustgate/xds/bootstrap"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/xdstls"
)

func newBootstrapCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap --node-id ID",
		Short: "print an Envoy bootstrap that connects to trustgate",
		Long: "Prints an Envoy bootstrap (YAML) that takes listeners and clusters from trustgate over ADS\n" +
			"through an HTTP/2 cluster named xds_cluster, announcing the node labels. File paths are\n" +
			"written as given: they are read by Envoy, not by this command. SDS sends the proxy its private\n" +
			"keys, so a plaintext bootstrap (no --xds-ca) to an address other than loopback is refused\n" +
			"unless --insecure-xds is given.",
		Args: noArgs,
	}
	fs := cmd.Flags()
	nodeID := fs.String("node-id", "", "the node `ID` Envoy announces (required)")
	labelFlag := fs.String("node-labels", "", "node labels `k=v,...`; proxies with equal labels share a configuration")
	aliasFlag(fs, "node-labels", "labels")
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
	// Not -o: that is the output format on every command that has one.
	outFile := fs.String("output-file", "", "write the bootstrap to `FILE` instead of standard output (an init container without a shell)")
	for _, name := range []string{"xds-ca", "xds-cert", "xds-key", "output-file"} {
		_ = cmd.MarkFlagFilename(name) // completion hint; the flag exists
	}
	cmd.RunE = action(func(cmd *cobra.Command, _ []string) error {
		warnAlias(cmd, "labels", "node-labels")
		if *nodeID == "" {
			return usagef("--node-id is required")
		}
		l, err := parseLabels(*labelFlag)
		if err != nil {
			return usagef("--node-labels: %v", err)
		}
		opts := bootstrap.Options{
			NodeID: *nodeID, Cluster: *cluster, Labels: l, XDSAddr: *xdsAddr, Delta: *delta,
			AdminPort:    uint32(min(*adminPort, 1<<32-1)), // saturate, not wrap: Generate rejects >65535
			MaxHeapBytes: *maxHeap, MaxConnections: *maxConns,
		}
		if *xdsCA != "" || *xdsCert != "" || *xdsKey != "" {
			opts.TLS = &bootstrap.TLSFiles{CA: *xdsCA, Cert: *xdsCert, Key: *xdsKey}
		}
		if err := checkPlaintext(opts, *insecure, cmd.ErrOrStderr()); err != nil {
			return usageError{err}
		}
		b, err := bootstrap.Generate(opts)
		if errors.Is(err, bootstrap.ErrOptions) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		y, err := bootstrap.YAML(b)
		if err != nil {
			return err
		}
		if *outFile != "" {
			// Envoy may run as another user than this command; the bootstrap
			// holds no secret (the TLS files are named, not inlined).
			return os.WriteFile(*outFile, y, 0o644) //nolint:gosec // G306: readable by Envoy, nothing secret
		}
		_, err = cmd.OutOrStdout().Write(y)
		return err
	})
	return cmd
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
