package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trustgate/trustgate/model"
)

// listFlag is a repeatable flag whose every use adds; a value may also be
// a comma-separated list (as kubectl's and istioctl's -f take it).
type listFlag []string

func (s *listFlag) String() string { return strings.Join(*s, ",") }
func (s *listFlag) Type() string   { return "strings" }

func (s *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// wholeFlag is a repeatable flag whose values are taken whole: a header or
// an organization may contain a comma.
type wholeFlag []string

func (s *wholeFlag) String() string { return strings.Join(*s, "; ") }
func (s *wholeFlag) Type() string   { return "stringArray" }

func (s *wholeFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// configFlags are the flags every command that reads configuration shares.
// Configuration paths come from --config and from the arguments: both add.
type configFlags struct {
	paths         listFlag
	secretsDirs   listFlag
	shortNames    string
	clusterDomain string
}

// configUse is the synopsis of the configuration paths.
const configUse = "[--config] PATH..."

func (c *configFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.Var(&c.paths, "config", "configuration `PATH`: a file, or a directory read recursively (repeatable, or comma-separated; paths given as arguments add to it)")
	fs.Var(&c.secretsDirs, "secrets-dir", "`DIR` laid out like mounted Kubernetes Secrets: DIR/<name>/{tls.crt,tls.key,ca.crt,ca.crl} (repeatable: every directory adds its secrets)")
	fs.StringVar(&c.shortNames, "short-names", string(model.ShortNamesDNS), "`RULE` for a host without a dot (\"httpbin\"): dns (as written, resolved by DNS) or kubernetes (Istio's rule: httpbin.<namespace>.svc.<cluster domain>)")
	fs.StringVar(&c.clusterDomain, "cluster-domain", model.DefaultClusterDomain, "Kubernetes cluster `DOMAIN` for --short-names kubernetes")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml") // completion hints; the flags exist
	_ = cmd.MarkFlagDirname("secrets-dir")
	enumFlag(cmd, "short-names", string(model.ShortNamesDNS), string(model.ShortNamesKubernetes))
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	}
}

// errNoConfig is options' error when no configuration path is given.
var errNoConfig = errors.New("no configuration: give --config PATH, or the paths as arguments")

// options returns what to load: the --config paths, then the arguments.
func (c *configFlags) options(args []string) (model.LoadOptions, error) {
	paths := append(append([]string(nil), c.paths...), args...)
	if len(paths) == 0 {
		return model.LoadOptions{}, errNoConfig
	}
	rule, err := model.ParseShortNameRule(c.shortNames)
	if err != nil {
		return model.LoadOptions{}, fmt.Errorf("--short-names: %w", err)
	}
	return model.LoadOptions{Paths: paths, SecretsDirs: c.secretsDirs, ShortNames: rule, ClusterDomain: c.clusterDomain}, nil
}

// outputFlag registers -o/--output, the output format, the same way on
// every command that has one.
func outputFlag(cmd *cobra.Command, def string, formats ...string) *string {
	v := cmd.Flags().StringP("output", "o", def, "output `format`: "+strings.Join(formats, " or "))
	enumFlag(cmd, "output", formats...)
	return v
}

// checkEnum returns a usage error unless the flag's value is one of values.
func checkEnum(flag, value string, values ...string) error {
	for _, v := range values {
		if v == value {
			return nil
		}
	}
	return usagef("--%s must be %s, not %q", flag, strings.Join(values, " or "), value)
}

// enumFlag makes the shell complete the flag with values.
func enumFlag(cmd *cobra.Command, name string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)) // registered once per flag
}

// aliasFlag adds old as a hidden spelling of the flag current, sharing its
// value; the command says which to use (see warnAlias).
func aliasFlag(fs *pflag.FlagSet, current, old string) {
	f := fs.Lookup(current)
	fs.AddFlag(&pflag.Flag{Name: old, Usage: "the former name of --" + current, Value: f.Value, DefValue: f.DefValue, Hidden: true})
}

// warnAlias tells, on stderr, that an old flag name was used.
func warnAlias(cmd *cobra.Command, old, current string) {
	if cmd.Flags().Changed(old) {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: --%s is now --%s\n", cmd.CommandPath(), old, current)
	}
}
