package main

import (
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// readmeRow is one command of the README's command table.
type readmeRow struct {
	synopsis string // the code span, unescaped
	cmd      *cobra.Command
}

// readmeCommands reads the table of README.md's "## Commands" section.
func readmeCommands(t *testing.T, root *cobra.Command) []readmeRow {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Commands\n")
	if start < 0 {
		t.Fatal("README.md has no ## Commands section")
	}
	section := text[start+1:]
	if end := regexp.MustCompile(`\n##+ `).FindStringIndex(section[1:]); end != nil {
		section = section[:end[0]+1]
	}
	var rows []readmeRow
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `trustgate ") {
			continue
		}
		end := strings.Index(line, "` |")
		if end < 0 {
			t.Fatalf("README command row without its code span: %s", line)
		}
		syn := strings.ReplaceAll(line[3:end], `\|`, "|")
		rows = append(rows, readmeRow{synopsis: syn, cmd: resolve(root, strings.Fields(syn)[1:])})
	}
	if len(rows) == 0 {
		t.Fatal("README.md's command table has no rows")
	}
	return rows
}

// resolve walks the subcommand names that start words.
func resolve(cmd *cobra.Command, words []string) *cobra.Command {
	for _, w := range words {
		next := childNamed(cmd, w)
		if next == nil {
			break
		}
		cmd = next
	}
	return cmd
}

func childNamed(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name && c.IsAvailableCommand() {
			return c
		}
	}
	return nil
}

// documentedFlags are the flags a command shows in --help (not --help
// itself, nor hidden former names); for a command whose subcommands the
// README row names together (completion bash|zsh|...), theirs.
func documentedFlags(cmd *cobra.Command) []string {
	set := map[string]bool{}
	add := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && f.Name != "help" {
				set["--"+f.Name] = true
			}
		})
	}
	add(cmd.Flags())
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			add(c.Flags())
		}
	}
	return sortedKeys(set)
}

// rowFlags are the flags a synopsis names, short forms made long.
func rowFlags(t *testing.T, row readmeRow) []string {
	set := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?:^|[\s\[(])(--?[a-zA-Z][a-zA-Z0-9-]*)`).FindAllStringSubmatch(row.synopsis, -1) {
		name := m[1]
		if !strings.HasPrefix(name, "--") {
			f := row.cmd.Flags().ShorthandLookup(name[1:])
			if f == nil {
				t.Errorf("%s: %s is no flag of %q", row.synopsis, name, row.cmd.CommandPath())
				continue
			}
			name = "--" + f.Name
		}
		set[name] = true
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// leafCommands are the commands a user runs (not the groups, help or
// cobra's hidden completion request command).
func leafCommands(cmd *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		if c.HasAvailableSubCommands() {
			out = append(out, leafCommands(c)...)
			continue
		}
		out = append(out, c)
	}
	return out
}

// TestREADMECommandsMatchHelp: the README's command table names every
// command, with the synopsis of its --help "Usage:" line and exactly the
// flags its --help lists, so neither can change without the other. A
// command may have several rows (serve, and serve --kubernetes): the first
// starts with the Usage line, and together they name every flag.
func TestREADMECommandsMatchHelp(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	byCmd := map[*cobra.Command][]readmeRow{}
	var order []*cobra.Command
	for _, row := range readmeCommands(t, root) {
		if row.cmd == root {
			t.Fatalf("%q names no command", row.synopsis)
		}
		if byCmd[row.cmd] == nil {
			order = append(order, row.cmd)
		}
		byCmd[row.cmd] = append(byCmd[row.cmd], row)
	}
	for _, cmd := range order {
		rows := byCmd[cmd]
		t.Run(cmd.CommandPath(), func(t *testing.T) {
			use := strings.TrimSuffix(cmd.UseLine(), " [flags]")
			if !strings.HasPrefix(rows[0].synopsis, use) {
				t.Errorf("the README's synopsis does not start as --help's Usage line:\nREADME: %s\nhelp:   %s", rows[0].synopsis, use)
			}
			named := map[string]bool{}
			for _, row := range rows {
				for _, f := range rowFlags(t, row) {
					named[f] = true
				}
			}
			if diff := cmp.Diff(documentedFlags(cmd), sortedKeys(named)); diff != "" {
				t.Errorf("flags of %q (-help +README):\n%s", cmd.CommandPath(), diff)
			}
		})
	}
	for _, leaf := range leafCommands(root) {
		if leaf.Name() == "help" {
			continue
		}
		if byCmd[leaf] == nil && byCmd[leaf.Parent()] == nil {
			t.Errorf("the README's command table lacks %q", leaf.CommandPath())
		}
	}
}

// TestHelpUsesDoubleDashes: every command's --help lists each of its flags
// as --name, and never spells a flag with one dash as Go's flag package
// did (-config).
func TestHelpUsesDoubleDashes(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	names := map[string]bool{}
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		all = append(all, c)
		c.Flags().VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub)
			}
		}
	}
	walk(root)
	var alt []string
	for n := range names {
		if len(n) > 1 {
			alt = append(alt, regexp.QuoteMeta(n))
		}
	}
	sort.Strings(alt)
	singleDash := regexp.MustCompile(`(?:^|[^-\w])-(` + strings.Join(alt, "|") + `)\b`)
	for _, c := range all {
		path := strings.Fields(c.CommandPath())[1:]
		t.Run(c.CommandPath(), func(t *testing.T) {
			code, stdout, stderr := runCapture(append(path, "--help")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if m := singleDash.FindString(stdout); m != "" {
				t.Errorf("--help spells a flag with one dash: %q", m)
			}
			for _, f := range documentedFlags(c) {
				if len(c.Commands()) == 0 && !strings.Contains(stdout, f) {
					t.Errorf("--help does not list %s", f)
				}
			}
		})
	}
}
