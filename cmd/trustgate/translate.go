package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/pipeline"
	"github.com/trustgate/trustgate/xds/dump"
)

func runTranslate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	var cf configFlags
	cf.register(fs)
	labels := fs.String("node-labels", "", "node metadata labels of the proxy group, `k=v,...` (default: the only Gateway selector in the configuration)")
	nodeID := fs.String("node-id", "", "node id of the proxy (informational)")
	output := fs.String("o", "json", "output format: json or yaml")
	layout := fs.String("layout", string(dump.LayoutConfigDump), "`layout` of the output: config-dump (Envoy's admin.v3.ConfigDump) or resources ({\"listeners\",\"routes\",\"clusters\",\"endpoints\",\"secrets\"})")
	showSecrets := fs.Bool("show-secrets", false, "print private keys instead of \"[redacted]\"")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: trustgate translate --config PATH... [--secrets-dir DIR] [--short-names dns|kubernetes] [--node-labels k=v,...] [--node-id ID] [-o json|yaml] [--layout config-dump|resources] [--show-secrets]")
		fmt.Fprintln(fs.Output(), "\nPrints the Envoy resources of one proxy group as Envoy's config dump (admin.v3.ConfigDump), in Envoy's JSON form.")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if *output != "json" && *output != "yaml" {
		return usageError(stderr, fs, "-o must be json or yaml, not %q", *output)
	}
	lay, err := dump.ParseLayout(*layout)
	if err != nil {
		return usageError(stderr, fs, "--%v", err)
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
	b, err := dump.Render(out.Resources, lay, *output, *showSecrets)
	if err != nil {
		fmt.Fprintln(stderr, "trustgate translate:", err)
		return 1
	}
	if _, err := stdout.Write(b); err != nil {
		fmt.Fprintln(stderr, "trustgate translate:", err)
		return 1
	}
	return 0
}

// nodeFor picks the proxy group: the given labels, which some Gateway must
// select, or the configuration's only Gateway selector.
func nodeFor(cfg *pipeline.Config, id, labels string) (pipeline.Node, error) {
	if labels != "" {
		l, err := parseLabels(labels)
		if err != nil {
			return pipeline.Node{}, err
		}
		if err := dump.CheckSelected(cfg.Selectors(), l); err != nil {
			return pipeline.Node{}, fmt.Errorf("%w; choose one with --node-labels", err)
		}
		return pipeline.Node{ID: id, Labels: l}, nil
	}
	sels := cfg.Selectors()
	switch len(sels) {
	case 0:
		return pipeline.Node{ID: id}, nil
	case 1:
		return pipeline.Node{ID: id, Labels: sels[0]}, nil
	}
	names := make([]string, len(sels))
	for i, s := range sels {
		names[i] = labelset.Key(s)
	}
	sort.Strings(names)
	return pipeline.Node{}, fmt.Errorf("the configuration has several Gateway selectors; choose one with --node-labels: %s", strings.Join(names, " | "))
}
