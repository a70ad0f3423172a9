package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise
// the module version from the build info is used.
var version = ""

// envoyAPIModule is the module whose version is the Envoy API trustgate
// speaks.
const envoyAPIModule = "github.com/envoyproxy/go-control-plane/envoy"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version, the commit it was built from, and the Go and Envoy API versions",
		Args:  noArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText())
			return err
		}),
	}
}

// versionText is what --version prints for this binary.
func versionText() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return formatVersion(version, bi, runtime.GOOS+"/"+runtime.GOARCH)
}

// formatVersion renders the version: the release (ldflags, else the module
// version), the commit with its time and whether the tree had changes, and
// the Go and Envoy API versions. go run, go test and -buildvcs=false
// record no commit; the text says so rather than print "(devel)" alone.
func formatVersion(ldflags string, bi *debug.BuildInfo, platform string) string {
	var b strings.Builder
	release := ldflags
	if release == "" && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		release = bi.Main.Version
	}
	if release == "" {
		release = "development build (no release version: built from a source tree)"
	}
	fmt.Fprintf(&b, "trustgate %s\n", release)
	if bi == nil {
		fmt.Fprintf(&b, "  go:        %s %s\n", runtime.Version(), platform)
		return b.String()
	}
	fmt.Fprintf(&b, "  commit:    %s\n", commitText(bi.Settings))
	fmt.Fprintf(&b, "  go:        %s %s\n", bi.GoVersion, platform)
	for _, d := range bi.Deps {
		if d.Path == envoyAPIModule {
			fmt.Fprintf(&b, "  envoy api: %s %s\n", d.Path, d.Version)
		}
	}
	return b.String()
}

// commitText reads the vcs.* build settings.
func commitText(settings []debug.BuildSetting) string {
	vcs := map[string]string{}
	for _, s := range settings {
		vcs[s.Key] = s.Value
	}
	rev := vcs["vcs.revision"]
	if rev == "" {
		return "not recorded in this binary (go build records it in a git checkout; go run, go test and -buildvcs=false do not)"
	}
	text := rev
	if t := vcs["vcs.time"]; t != "" {
		text += " (" + t + ")"
	}
	if vcs["vcs.modified"] == "true" {
		text += " with uncommitted changes"
	}
	return text
}
