package main

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
)

// loadConfig loads the configuration; its errors, one "file:line: ..."
// per line, are printed as they are (exit status 1).
func loadConfig(cmd *cobra.Command, opts model.LoadOptions, options ...compile.Option) (*compile.Config, error) {
	cfg, err := compile.Load(opts, options...)
	if err != nil {
		return nil, reported(cmd, err)
	}
	return cfg, nil
}

// reported prints a configuration error on stderr as it is and ends the
// command with exit status 1.
func reported(cmd *cobra.Command, err error) error {
	fmt.Fprintln(cmd.ErrOrStderr(), err)
	return exitCode(1)
}

// nodeLabelsFlag registers --node-labels; the shell completes it with the
// label sets the configuration's Gateways select.
func nodeLabelsFlag(cmd *cobra.Command, cf *configFlags) *string {
	v := cmd.Flags().String("node-labels", "", "node metadata labels of the proxy group, `k=v,...` (default: the only Gateway selector in the configuration)")
	_ = cmd.RegisterFlagCompletionFunc("node-labels", func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return selectorCompletions(cf, args), cobra.ShellCompDirectiveNoFileComp
	}) // registered once
	return v
}

// selectorCompletions lists the Gateway selectors of the configuration the
// command line names so far (nothing when it names none).
func selectorCompletions(cf *configFlags, args []string) []cobra.Completion {
	opts, err := cf.options(args)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, s := range compile.Selectors(opts) {
		out = append(out, labelset.Key(s))
	}
	sort.Strings(out)
	return out
}
