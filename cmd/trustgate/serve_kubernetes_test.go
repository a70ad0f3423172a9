package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeKubernetesFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	tests := map[string]struct {
		args      []string
		wantCode  int
		stderrHas string
	}{
		"files and the API":        {args: []string{"--kubernetes", "--config", missing}, wantCode: 2, stderrHas: "drop --config"},
		"secrets dir and the API":  {args: []string{"--kubernetes", "--secrets-dir", missing}, wantCode: 2, stderrHas: "drop --config, configuration paths and --secrets-dir"},
		"paths and the API":        {args: []string{"--kubernetes", missing}, wantCode: 2, stderrHas: "drop --config, configuration paths"},
		"webhook without its cert": {args: []string{"--kubernetes", "--webhook-addr", "127.0.0.1:9443"}, wantCode: 2, stderrHas: "over TLS only"},
		"namespaces without it":    {args: []string{"--namespaces", "a"}, wantCode: 2, stderrHas: "need --kubernetes"},
		"short names as written":   {args: []string{"--kubernetes", "--short-names", "dns"}, wantCode: 2, stderrHas: "Istio's rule"},
		"no cluster": {
			args:     []string{"--kubernetes", "--kubeconfig", missing, "--admin-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0"},
			wantCode: 1, stderrHas: "kubernetes client",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append([]string{"serve"}, tc.args...), &stdout, &stderr); code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrHas, stderr.String())
			}
		})
	}
}
