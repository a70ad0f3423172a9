package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise
// the module version from the build info is used.
var version = ""

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "serve the configuration to Envoy over ADS, reloading on change", runServe},
		{"translate", "print the Envoy resources for one proxy group", runTranslate},
		{"check", "validate configuration and certificates; exit 1 on errors", runCheck},
		{"explain", "explain what Envoy would do with one connection and request", runExplain},
		{"bootstrap", "print an Envoy bootstrap that connects to trustgate", runBootstrap},
		{"certs", "a file-backed development PKI (for development and tests only)", runCerts},
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, "trustgate", buildVersion())
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return profiled(stderr, func() int { return c.run(args[1:], stdout, stderr) })
		}
	}
	fmt.Fprintf(stderr, "trustgate: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: trustgate <command> [flags]   (trustgate <command> --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n  --version  print the version")
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
