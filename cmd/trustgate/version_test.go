package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatVersion(t *testing.T) {
	deps := []*debug.Module{{Path: "github.com/spf13/cobra", Version: "v1.10.2"}, {Path: envoyAPIModule, Version: "v1.40.0"}}
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "5d76277438c448a50dd4d71a9f3e0be96d3f8553"},
		{Key: "vcs.time", Value: "2026-12-01T01:52:50Z"}, {Key: "vcs.modified", Value: "true"},
	}
	tests := map[string]struct {
		ldflags string
		bi      *debug.BuildInfo
		want    string
	}{
		"go build in a checkout with changes": {
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201015250-5d76277438c4+dirty"}, Deps: deps, Settings: vcs},
			want: `trustgate v0.0.0-20261201015250-5d76277438c4+dirty
  commit:    5d76277438c448a50dd4d71a9f3e0be96d3f8553 (2026-12-01T01:52:50Z) with uncommitted changes
  go:        go1.26.8 linux/amd64
  envoy api: github.com/envoyproxy/go-control-plane/envoy v1.40.0
`,
		},
		"go run: (devel), no commit": {
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Deps: deps},
			want: `trustgate development build (no release version: built from a source tree)
  commit:    not recorded in this binary (go build records it in a git checkout; go run, go test and -buildvcs=false do not)
  go:        go1.26.8 linux/amd64
  envoy api: github.com/envoyproxy/go-control-plane/envoy v1.40.0
`,
		},
		"go install of a release": {
			bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Deps: deps[1:],
				Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			want: `trustgate v1.2.3
  commit:    abc
  go:        go1.26.8 linux/amd64
  envoy api: github.com/envoyproxy/go-control-plane/envoy v1.40.0
`,
		},
		"-ldflags -X main.version wins": {
			ldflags: "v9.9.9", bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:2]},
			want: `trustgate v9.9.9
  commit:    5d76277438c448a50dd4d71a9f3e0be96d3f8553
  go:        go1.26.8 linux/amd64
`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, formatVersion(tc.ldflags, tc.bi, "linux/amd64")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestVersionCommand: --version and `version` print the same, with the
// Go version of this very binary.
func TestVersionCommand(t *testing.T) {
	_, flag, _ := runCapture("--version")
	_, cmd, _ := runCapture("version")
	if flag != cmd {
		t.Errorf("--version:\n%s\nversion:\n%s", flag, cmd)
	}
	for _, want := range []string{"trustgate ", "  commit:    ", "  go:        go1.", "  envoy api: " + envoyAPIModule + " v"} {
		if !strings.Contains(flag, want) {
			t.Errorf("--version lacks %q:\n%s", want, flag)
		}
	}
}
