package main

import (
	"embed"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/model"
)

//go:embed defaultconfig/*.yaml
var defaultConfigFS embed.FS

// defaultConfig writes the built-in example and throw-away certificates for
// it into a temporary directory (development only) and returns how to load
// them; cleanup removes the directory.
func defaultConfig(log *slog.Logger) (cleanup func(), opts model.LoadOptions, err error) {
	dir, err := os.MkdirTemp("", "trustgate-default-")
	if err != nil {
		return nil, opts, err
	}
	cleanup = func() {
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("removing the default configuration", "dir", dir, "error", err)
		}
	}
	if err := writeDefaultConfig(dir); err != nil {
		cleanup()
		return nil, opts, err
	}
	pki := filepath.Join(dir, "pki")
	opts = model.LoadOptions{Paths: []string{filepath.Join(dir, "config")}, SecretsDirs: []string{pki}}
	log.Info("serving the built-in example configuration (development only)",
		"config", opts.Paths[0], "secrets", pki,
		"envoy", "trustgate bootstrap --node-id dev --node-labels app=trustgate-default",
		"curl", fmt.Sprintf("curl --cacert %[1]s/client/ca.crt --cert %[1]s/client/tls.crt --key %[1]s/client/tls.key https://localhost:8443/", pki))
	return cleanup, opts, nil
}

func writeDefaultConfig(dir string) error {
	b, err := defaultConfigFS.ReadFile("defaultconfig/gateway.yaml")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "gateway.yaml"), b, 0o600); err != nil {
		return err
	}
	pki := filepath.Join(dir, "pki")
	if err := certs.Init(pki, certs.InitOptions{}); err != nil {
		return err
	}
	if _, err := certs.Issue(pki, certs.KindServer, certs.IssueOptions{Name: "default-gateway", Hosts: []string{"localhost", "127.0.0.1"}}); err != nil {
		return err
	}
	_, err = certs.Issue(pki, certs.KindClient, certs.IssueOptions{Name: "client", CommonName: "client"})
	return err
}
