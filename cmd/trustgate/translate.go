package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/xds/dump"
)

func newTranslateCmd() *cobra.Command {
	var cf configFlags
	cmd := &cobra.Command{
		Use:         "translate " + configUse,
		Annotations: map[string]string{gcAnnotation: oneShot},
		Short:       "print the Envoy resources for one proxy group",
		Long: "Prints the Envoy resources of one proxy group as Envoy's config dump (admin.v3.ConfigDump), in\n" +
			"Envoy's JSON form; private keys read \"[redacted]\" unless --show-secrets.",
	}
	cf.register(cmd)
	fs := cmd.Flags()
	labels := nodeLabelsFlag(cmd, &cf)
	nodeID := fs.String("node-id", "", "node `ID` of the proxy (informational)")
	output := outputFlag(cmd, "json", "json", "yaml")
	layout := fs.String("layout", string(dump.LayoutConfigDump), "`layout` of the output: config-dump (Envoy's admin.v3.ConfigDump) or resources ({\"listeners\",\"routes\",\"clusters\",\"endpoints\",\"secrets\"})")
	enumFlag(cmd, "layout", string(dump.LayoutConfigDump), string(dump.LayoutResources))
	showSecrets := fs.Bool("show-secrets", false, "print private keys instead of \"[redacted]\"")
	cmd.RunE = action(func(cmd *cobra.Command, args []string) error {
		reserveHugeHeap(cmd)
		tuneGCForOneShot()
		if err := checkEnum("output", *output, "json", "yaml"); err != nil {
			return err
		}
		lay, err := dump.ParseLayout(*layout)
		if err != nil {
			return usagef("--%v", err)
		}
		opts, err := cf.options(args)
		if err != nil {
			return usageError{err}
		}
		cfg, err := loadConfig(cmd, opts)
		if err != nil {
			return err
		}
		node, err := nodeFor(cfg, *nodeID, *labels)
		if err != nil {
			return usageError{err}
		}
		out, err := cfg.Build(node)
		if err != nil {
			return reported(cmd, err)
		}
		for _, w := range out.Warnings {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
		}
		if *output == "json" {
			// Streamed, one resource at a time: the same bytes as
			// dump.JSON and dump.ConfigDumpJSON without holding the whole
			// document.
			if lay == dump.LayoutResources {
				return dump.WriteJSON(cmd.OutOrStdout(), out.Resources, *showSecrets)
			}
			return dump.WriteConfigDumpJSON(cmd.OutOrStdout(), out.Resources, *showSecrets)
		}
		b, err := dump.Render(out.Resources, lay, *output, *showSecrets)
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	})
	return cmd
}

// nodeFor picks the proxy group: the given labels, which some Gateway must
// select, or the configuration's only Gateway selector.
func nodeFor(cfg *compile.Config, id, labels string) (compile.Node, error) {
	if labels != "" {
		l, err := parseLabels(labels)
		if err != nil {
			return compile.Node{}, err
		}
		if err := dump.CheckSelected(cfg.Selectors(), l); err != nil {
			return compile.Node{}, fmt.Errorf("%w; choose one with --node-labels", err)
		}
		return compile.Node{ID: id, Labels: l}, nil
	}
	sels := cfg.Selectors()
	switch len(sels) {
	case 0:
		return compile.Node{ID: id}, nil
	case 1:
		return compile.Node{ID: id, Labels: sels[0]}, nil
	}
	names := make([]string, len(sels))
	for i, s := range sels {
		names[i] = labelset.Key(s)
	}
	sort.Strings(names)
	return compile.Node{}, fmt.Errorf("the configuration has several Gateway selectors; choose one with --node-labels: %s", strings.Join(names, " | "))
}
