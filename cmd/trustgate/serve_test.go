package main

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
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
