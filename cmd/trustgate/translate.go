package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/trustgate/trustgate/pipeline"
	"github.com/trustgate/trustgate/xds/dump"
	"github.com/trustgate/trustgate/xds/ir"
)

func runTranslate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	labels := fs.String("node-labels", "", "node metadata labels of the proxy group, `k=v,...` (default: the only Gateway selector in the configuration)")
	nodeID := fs.String("node-id", "", "node id of the proxy (informational)")
	output := fs.String("o", "json", "output format: json or yaml")
	showSecrets := fs.Bool("show-secrets", false, "print private keys instead of \"[redacted]\"")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: trustgate translate --config PATH... [--secrets-dir DIR] [--node-labels k=v,...] [--node-id ID] [-o json|yaml] [--show-secrets]")
		fmt.Fprintln(fs.Output(), "\nPrints {\"listeners\",\"routes\",\"clusters\",\"endpoints\",\"secrets\"} in Envoy's JSON form for one proxy group.")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *output != "json" && *output != "yaml" {
		return usageError(stderr, fs, "-o must be json or yaml, not %q", *output)
	}
	opts, err := cf.options(fs)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	cfg, err := pipeline.Load(opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	node, err := nodeFor(cfg, *nodeID, *labels)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	out, err := cfg.Build(node)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, w := range out.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err := writeResources(stdout, out, *output, *showSecrets); err != nil {
		fmt.Fprintln(stderr, "trustgate translate:", err)
		return 1
	}
	return 0
}

// writeResources prints the resources. JSON is streamed, one resource at a
// time as it is rendered (dump.WriteJSON); should a resource fail to
// render, what came before it has been printed and the exit status is 1.
func writeResources(w io.Writer, out *pipeline.Output, format string, showSecrets bool) error {
	if format == "json" {
		return dump.WriteJSON(w, out.Resources, showSecrets)
	}
	b, err := dump.YAML(out.Resources, showSecrets)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// nodeFor picks the proxy group: the given labels, or the configuration's
// only Gateway selector.
func nodeFor(cfg *pipeline.Config, id, labels string) (ir.Node, error) {
	if labels != "" {
		l, err := parseLabels(labels)
		if err != nil {
			return ir.Node{}, err
		}
		return ir.Node{ID: id, Labels: l}, nil
	}
	sels := cfg.Selectors()
	switch len(sels) {
	case 0:
		return ir.Node{ID: id}, nil
	case 1:
		return ir.Node{ID: id, Labels: sels[0]}, nil
	}
	names := make([]string, len(sels))
	for i, s := range sels {
		names[i] = pipeline.FormatLabels(s)
	}
	sort.Strings(names)
	return ir.Node{}, fmt.Errorf("the configuration has several Gateway selectors; choose one with --node-labels: %s", strings.Join(names, " | "))
}
