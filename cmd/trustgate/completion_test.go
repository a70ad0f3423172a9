package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

func TestCompletionScripts(t *testing.T) {
	for shell, first := range map[string]string{
		"bash":       "# bash completion V2 for trustgate",
		"zsh":        "#compdef trustgate",
		"fish":       "# fish completion for trustgate",
		"powershell": "# powershell completion for trustgate",
	} {
		t.Run(shell, func(t *testing.T) {
			code, stdout, stderr := runCapture("completion", shell)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.HasPrefix(stdout, first) {
				t.Errorf("the script starts %q, want %q", stdout[:min(len(stdout), 60)], first)
			}
		})
	}
}

// TestCompletions asks what the shell scripts ask (trustgate __complete
// ARGS... PARTIAL) and checks the candidates and the directive.
func TestCompletions(t *testing.T) {
	cfg, _ := cliFixture(t, "app.example.com")
	tests := map[string]struct {
		args      []string
		want      []string
		directive cobra.ShellCompDirective
	}{
		"commands":       {args: []string{"c"}, want: []string{"certs\ta file-backed development PKI (for development and tests only)", "check\tvalidate configuration and certificates; exit 1 on errors", "completion\tprint the shell completion script for bash, zsh, fish or powershell"}, directive: cobra.ShellCompDirectiveNoFileComp},
		"output formats": {args: []string{"translate", "-o", ""}, want: []string{"json", "yaml"}, directive: cobra.ShellCompDirectiveNoFileComp},
		"node labels from the configuration": {
			args: []string{"translate", "--config", cfg, "--node-labels", ""}, want: []string{"istio=ingressgateway"}, directive: cobra.ShellCompDirectiveNoFileComp,
		},
		"node labels from paths given as arguments": {
			args: []string{"explain", cfg, "--node-labels", ""}, want: []string{"istio=ingressgateway"}, directive: cobra.ShellCompDirectiveNoFileComp,
		},
		"node labels without configuration": {args: []string{"translate", "--node-labels", ""}, directive: cobra.ShellCompDirectiveNoFileComp},
		"configuration files":               {args: []string{"check", "--config", ""}, want: []string{"yaml", "yml"}, directive: cobra.ShellCompDirectiveFilterFileExt},
		"configuration files as arguments":  {args: []string{"check", ""}, want: []string{"yaml", "yml"}, directive: cobra.ShellCompDirectiveFilterFileExt},
		"secrets directories":               {args: []string{"serve", "--secrets-dir", ""}, directive: cobra.ShellCompDirectiveFilterDirs},
		"short-name rules":                  {args: []string{"check", "--short-names", ""}, want: []string{"dns", "kubernetes"}, directive: cobra.ShellCompDirectiveNoFileComp},
		"key types":                         {args: []string{"certs", "issue", "client", "--key-type", ""}, want: []string{"ecdsa", "rsa"}, directive: cobra.ShellCompDirectiveNoFileComp},
		"log levels":                        {args: []string{"serve", "--log-level", ""}, want: []string{"debug", "info", "warn", "error"}, directive: cobra.ShellCompDirectiveNoFileComp},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCapture(append([]string{cobra.ShellCompRequestCmd}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			got, directive := lines[:len(lines)-1], lines[len(lines)-1]
			if diff := cmp.Diff(tc.want, got, cmpEmpty); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
			if want := ":" + strconv.Itoa(int(tc.directive)); directive != want {
				t.Errorf("directive %s, want %s", directive, want)
			}
		})
	}
}

// cmpEmpty equates nil and empty candidate lists.
var cmpEmpty = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())
