package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/trustgate/trustgate/model"
)

// stringList is a repeatable flag that also splits on commas.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// configFlags are the flags every command that reads configuration shares.
type configFlags struct {
	paths         stringList
	secretsDir    string
	shortNames    string
	clusterDomain string
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.Var(&c.paths, "config", "configuration `PATH` (file or directory; repeatable; further paths may follow the flags)")
	fs.StringVar(&c.secretsDir, "secrets-dir", "", "`DIR` laid out like mounted Kubernetes Secrets: DIR/<name>/{tls.crt,tls.key,ca.crt,ca.crl}")
	fs.StringVar(&c.shortNames, "short-names", string(model.ShortNamesDNS), "how a host without a dot (\"httpbin\") is read: `dns` (as written, resolved by DNS) or kubernetes (Istio's rule: httpbin.<namespace>.svc.<cluster domain>)")
	fs.StringVar(&c.clusterDomain, "cluster-domain", model.DefaultClusterDomain, "Kubernetes cluster `DOMAIN` for --short-names kubernetes")
}

// errNoConfig is options' error when no configuration path is given.
var errNoConfig = errors.New("--config is required")

func (c *configFlags) options(fs *flag.FlagSet) (model.LoadOptions, error) {
	paths := append(append([]string(nil), c.paths...), fs.Args()...)
	if len(paths) == 0 {
		return model.LoadOptions{}, errNoConfig
	}
	rule, err := model.ParseShortNameRule(c.shortNames)
	if err != nil {
		return model.LoadOptions{}, fmt.Errorf("--short-names: %w", err)
	}
	return model.LoadOptions{Paths: paths, SecretsDir: c.secretsDir, ShortNames: rule, ClusterDomain: c.clusterDomain}, nil
}

// parseFlags parses args; it returns done=true with the exit code when the
// command should stop (help requested: 0; bad flags: 2).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	fs.SetOutput(stderr)
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout) // help asked for is output, not an error
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	return 0, false
}

// usageError prints a usage problem and returns exit code 2.
func usageError(stderr io.Writer, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(stderr, "trustgate %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "run 'trustgate %s --help' for usage\n", fs.Name())
	return 2
}
