package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// newRoot builds the command tree writing to stdout and stderr. Flags may
// come anywhere after the command (pflag parses them between arguments);
// "--" ends them.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "trustgate",
		Short: "a control plane for mutual-TLS gateways on Envoy",
		Long: "trustgate turns Istio's gateway kinds (Gateway, VirtualService, DestinationRule, ServiceEntry,\n" +
			"AuthorizationPolicy, Secrets) into Envoy configuration for mutual-TLS gateways and serves it over ADS.\n\n" +
			"Exit status: 0 on success, 1 on errors, 2 on usage errors.",
		Version:       versionText(),
		SilenceErrors: true, // exitStatus prints them, and knows 1 from 2
		SilenceUsage:  true,
		RunE:          missingCommand,
	}
	root.SetOut(stdout) // before the completion command, which keeps the writer it finds
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}")
	root.SetUsageTemplate(usageTemplate)
	root.Flags().Bool("version", false, "print the version, the commit it was built from, and the Go and Envoy API versions")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentPreRun = restoreGC
	root.AddCommand(newServeCmd(), newTranslateCmd(), newCheckCmd(), newExplainCmd(),
		newBootstrapCmd(), newCertsCmd(), newVersionCmd())
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() { // cobra's words, in the style of the others
		case "help":
			c.Short = "help about any command"
		case "completion":
			c.Short = "print the shell completion script for bash, zsh, fish or powershell"
		}
	}
	return root
}

// usageTemplate is cobra's, with the synopsis on the "Usage:" line and
// one line on how to get a subcommand's flags.
const usageTemplate = `Usage: {{if .HasAvailableSubCommands}}{{.CommandPath}} <command>{{else}}{{.UseLine}}{{end}}
{{- if .HasExample}}

Examples:
{{.Example}}{{end}}
{{- if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}
{{- if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}
{{- if .HasAvailableSubCommands}}

Run '{{.CommandPath}} <command> --help' for the flags of a command.{{end}}
`

// usageError is a wrong command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef makes a usageError.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// failure is an error of a command that was used correctly: exit status 1.
type failure struct{ err error }

func (e failure) Error() string { return e.err.Error() }
func (e failure) Unwrap() error { return e.err }

// exitCode ends a command with a status after it has said why on its own
// (a check report, a list of configuration errors).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// action adapts a command's body: a usageError stays one, any other error
// is a failure. Errors cobra and pflag make before the body runs (unknown
// commands and flags, bad flag values) never pass here, and so are usage
// errors.
func action(body func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := body(cmd, args)
		var u usageError
		var c exitCode
		if err == nil || errors.As(err, &u) || errors.As(err, &c) {
			return err
		}
		return failure{err}
	}
}

// exitStatus prints err for cmd and returns the exit status.
func exitStatus(cmd *cobra.Command, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	path := "trustgate"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	var f failure
	if errors.As(err, &f) {
		fmt.Fprintf(stderr, "%s: %v\n", path, f.err)
		return 1
	}
	fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", path, err, path)
	return 2
}

// missingCommand is the body of a command that only groups others: a
// missing subcommand prints the usage on stderr (exit 2), an unknown one is
// a usage error.
func missingCommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		hint := ""
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return usagef("unknown command %q for %q%s", args[0], cmd.CommandPath(), hint)
	}
	fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
	return exitCode(2)
}

// noArgs refuses positional arguments as a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}
