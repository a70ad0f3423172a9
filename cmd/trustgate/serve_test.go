package main

import (
	"bytes"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestServeRefusesInsecureXDS(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := map[string]struct {
		args      []string
		wantCode  int
		stderrHas string
	}{
		"plaintext on every interface": {args: []string{"--xds-addr", ":18000"}, wantCode: 2, stderrHas: "refusing to serve it on every interface"},
		"plaintext on a private IP":    {args: []string{"--xds-addr", "10.0.0.1:18000"}, wantCode: 2, stderrHas: `refusing to serve it on "10.0.0.1"`},
		"plaintext on a host name":     {args: []string{"--xds-addr", "trustgate.internal:18000"}, wantCode: 2, stderrHas: "--insecure-xds"},
		"certificate without key":      {args: []string{"--xds-cert", missing}, wantCode: 2, stderrHas: "go together"},
		"no client CA":                 {args: []string{"--xds-cert", missing, "--xds-key", missing}, wantCode: 2, stderrHas: "go together"},
		"policy without TLS":           {args: []string{"--xds-authz", missing}, wantCode: 2, stderrHas: "--xds-authz needs mutual TLS"},
		"insecure and TLS": {
			args:     []string{"--insecure-xds", "--xds-cert", missing, "--xds-key", missing, "--xds-client-ca", missing},
			wantCode: 2, stderrHas: "contradicts",
		},
		"negative limit":        {args: []string{"--max-groups", "-1"}, wantCode: 2, stderrHas: "--max-groups must not be negative"},
		"negative idle timeout": {args: []string{"--xds-idle-timeout", "-1s"}, wantCode: 2, stderrHas: "--xds-idle-timeout must not be negative"},
		"unreadable TLS files": {
			args:     []string{"--xds-cert", missing, "--xds-key", missing, "--xds-client-ca", missing},
			wantCode: 1, stderrHas: "missing.pem",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runServe(tc.args, &stdout, &stderr); code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrHas, stderr.String())
			}
		})
	}
}

// TestServeSaysWhatProtectsKeys starts serve and checks its first words
// about the private keys it will hand out.
func TestServeSaysWhatProtectsKeys(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt) // see TestNoPrivateKeyLeaks
	defer signal.Stop(sig)
	tr := &transcript{t: t}
	f := newLeakFixture(t, tr)
	config := []string{"--config", f.config, "--secrets-dir", f.secrets}
	tests := map[string]struct {
		args   []string
		logHas string
	}{
		"plaintext on loopback": {args: config, logHas: "plaintext xDS on loopback"},
		"insecure":              {args: append([]string{"--insecure-xds"}, config...), logHas: `"level":"WARN","msg":"plaintext xDS (--insecure-xds)`},
		"mutual TLS without a policy": {
			args:   append([]string{"--xds-cert", f.xdsCert, "--xds-key", f.xdsKey, "--xds-client-ca", f.xdsCA}, config...),
			logHas: `"level":"WARN","msg":"xDS over mutual TLS without --xds-authz: a proxy's node id must match its certificate, but any authenticated proxy may claim any labels`,
		},
		"mutual TLS with a policy": {
			args:   append([]string{"--xds-cert", f.xdsCert, "--xds-key", f.xdsKey, "--xds-client-ca", f.xdsCA, "--xds-authz", f.authz}, config...),
			logHas: "labels must match --xds-authz",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := startServe(t, tr, name, tc.args...)
			s.stop(t, tr)
			if log := s.log.String(); !strings.Contains(log, tc.logHas) {
				t.Errorf("the log lacks %q:\n%s", tc.logHas, log)
			}
		})
	}
}

// TestServeExitsWhenTheFirstLoadFails: a mistyped --config, a FIFO or an
// empty file must not leave serve running with nothing to serve.
func TestServeExitsWhenTheFirstLoadFails(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		config, says string
	}{
		"a mistyped --config": {config: filepath.Join(dir, "gatway.yaml"), says: "no such file or directory"},
		"a FIFO as --config":  {config: fifo, says: "is a named pipe (FIFO), not a regular file"},
		"an empty file":       {config: empty, says: "the file is empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- runServe([]string{"--xds-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--config", tc.config}, &stdout, &stderr)
			}()
			select {
			case code := <-done:
				if code != 1 {
					t.Errorf("exit %d, want 1", code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serve kept running after the first load failed")
			}
			for _, want := range []string{"the first configuration did not load", tc.says} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

// TestServeWaitsForConfigWhenAsked: with --wait-for-config, serve keeps
// running, not ready, until a configuration loads.
func TestServeWaitsForConfigWhenAsked(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt) // see TestNoPrivateKeyLeaks
	defer signal.Stop(sig)
	tr := &transcript{t: t}
	s := startServe(t, tr, "wait", "--wait-for-config", "--config", filepath.Join(t.TempDir(), "later.yaml"))
	s.admin(t, tr, http.StatusServiceUnavailable, "/readyz")
	s.stop(t, tr)
}
