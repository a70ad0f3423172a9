package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRunBootstrap(t *testing.T) {
	committed := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "envoy", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStdout string // exact, when set
		stdoutHas  string
		stderrHas  string
	}{
		// The command lines envoy/README.md gives for the committed files.
		"envoy/bootstrap-sotw.yaml": {
			args: []string{"--node-id", "gateway-1", "--node-labels", "app=trustgate-default"}, wantStdout: committed("bootstrap-sotw.yaml"),
		},
		"envoy/bootstrap-delta.yaml": {
			args: []string{"--node-id", "gateway-1", "--node-labels", "app=trustgate-default", "--delta"}, wantStdout: committed("bootstrap-delta.yaml"),
		},
		"mutual TLS to trustgate": {
			args:      []string{"--node-id", "gw", "--xds-addr", "trustgate.internal:18000", "--xds-ca", "/ca.pem", "--xds-cert", "/tls.crt", "--xds-key", "/tls.key"},
			stdoutHas: "exact: trustgate.internal",
		},
		"overload limits": {
			args:      []string{"--node-id", "gw", "--max-heap", "536870912", "--max-connections", "2000"},
			stdoutHas: "max_active_downstream_connections: \"2000\"",
		},
		"heap limit": {
			args:      []string{"--node-id", "gw", "--max-heap", "536870912"},
			stdoutHas: "max_heap_size_bytes: \"536870912\"",
		},
		"connections above int64": {args: []string{"--node-id", "gw", "--max-connections", "9223372036854775808"}, wantCode: 2, stderrHas: "max connections"},
		// Plaintext xDS carries every private key the proxy's group uses.
		"plaintext to a remote name is refused": {
			args: []string{"--node-id", "gw", "--xds-addr", "trustgate.internal:18000"}, wantCode: 2, stderrHas: "--insecure-xds",
		},
		"plaintext to a remote IP is refused": {
			args: []string{"--node-id", "gw", "--xds-addr", "10.0.0.5:18000"}, wantCode: 2, stderrHas: "not on loopback",
		},
		"plaintext to a remote name with --insecure-xds": {
			args:      []string{"--node-id", "gw", "--xds-addr", "trustgate.internal:18000", "--insecure-xds"},
			stdoutHas: "address: trustgate.internal", stderrHas: "warning: plaintext xDS",
		},
		"plaintext to localhost": {
			args: []string{"--node-id", "gw", "--xds-addr", "localhost:18000"}, stdoutHas: "address: localhost",
		},
		"--insecure-xds with TLS": {
			args:     []string{"--node-id", "gw", "--xds-addr", "trustgate.internal:18000", "--xds-ca", "/ca.pem", "--insecure-xds"},
			wantCode: 2, stderrHas: "contradicts",
		},
		"help":             {args: []string{"--help"}, stdoutHas: "Usage: trustgate bootstrap"},
		"no node ID":       {args: nil, wantCode: 2, stderrHas: "--node-id is required"},
		"bad labels":       {args: []string{"--node-id", "gw", "--node-labels", "app"}, wantCode: 2, stderrHas: "--node-labels"},
		"bad address":      {args: []string{"--node-id", "gw", "--xds-addr", "trustgate"}, wantCode: 2, stderrHas: "xDS address"},
		"key without cert": {args: []string{"--node-id", "gw", "--xds-ca", "ca", "--xds-key", "k"}, wantCode: 2, stderrHas: "go together"},
		"admin port":       {args: []string{"--node-id", "gw", "--admin-port", "70000"}, wantCode: 2, stderrHas: "admin port"},
		"unknown flag":     {args: []string{"--node-id", "gw", "--nope"}, wantCode: 2, stderrHas: "nope"},
		"stray argument":   {args: []string{"--node-id", "gw", "extra"}, wantCode: 2, stderrHas: `unexpected argument "extra"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"bootstrap"}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if tc.wantStdout != "" {
				if diff := cmp.Diff(tc.wantStdout, stdout.String()); diff != "" {
					t.Errorf("output differs from the committed file (-file +output):\n%s", diff)
				}
			}
			if !strings.Contains(stdout.String(), tc.stdoutHas) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdoutHas, stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrHas, stderr.String())
			}
		})
	}
}

// TestBootstrapToFile: --output-file writes what stdout would get (the
// chart's init container has no shell to redirect).
func TestBootstrapToFile(t *testing.T) {
	args := []string{"bootstrap", "--node-id", "gateway-1", "--node-labels", "app=trustgate-default"}
	out := filepath.Join(t.TempDir(), "envoy.yaml")
	var stdout, stderr bytes.Buffer
	if code := run(append(args, "--output-file", out), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("--output-file also printed %d bytes", stdout.Len())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "envoy", "bootstrap-sotw.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("--output-file wrote something else than the committed envoy/bootstrap-sotw.yaml")
	}
}
