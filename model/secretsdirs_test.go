package model

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSecretsDirs: every secrets directory adds its secrets. Seed 004's
// layout keeps the server's certificate and the client CAs apart: the
// server key in one directory, "<credentialName>-cacert" in another.
func TestSecretsDirs(t *testing.T) {
	dir := t.TempDir()
	servers, clients := filepath.Join(dir, "servers"), filepath.Join(dir, "clients")
	mountSecret(t, filepath.Join(servers, "gw"), map[string]string{"tls.crt": "C", "tls.key": "K"})
	mountSecret(t, filepath.Join(clients, "gw-cacert"), map[string]string{"ca.crt": "A", "ca.crl": "R"})
	cfg, err := Load(LoadOptions{SecretsDirs: []string{servers, clients}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := map[string]struct {
		resolve func() (*Credential, error)
		want    *Credential
	}{
		"the server's certificate from the first directory": {
			resolve: func() (*Credential, error) { return cfg.ResolveCredential("edge", "gw") },
			want:    &Credential{Name: "gw", Origin: filepath.Join(servers, "gw"), Cert: []byte("C"), Key: []byte("K")},
		},
		"the client CA from the second directory": {
			resolve: func() (*Credential, error) { return cfg.ResolveCACredential("edge", "gw") },
			want:    &Credential{Name: "gw-cacert", Origin: filepath.Join(clients, "gw-cacert"), CA: []byte("A"), CRL: []byte("R")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tc.resolve()
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSecretsDirsSameName: a name in two directories is one secret when
// the material is the same, and ambiguous, naming both, when it differs;
// a missing secret's message names every directory searched.
func TestSecretsDirsSameName(t *testing.T) {
	tests := map[string]struct {
		second  map[string]string
		wantErr error
	}{
		"same material":      {second: map[string]string{"tls.crt": "C", "tls.key": "K"}},
		"different material": {second: map[string]string{"tls.crt": "C2", "tls.key": "K2"}, wantErr: ErrSecretAmbiguous},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			writeFiles(t, a, map[string]string{"gw/tls.crt": "C", "gw/tls.key": "K"})
			files := map[string]string{}
			for k, v := range tc.second {
				files["gw/"+k] = v
			}
			writeFiles(t, b, files)
			cfg, err := Load(LoadOptions{SecretsDirs: []string{a, b}})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			_, err = cfg.ResolveCredential("edge", "gw")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), filepath.Join(a, "gw")) || !strings.Contains(err.Error(), filepath.Join(b, "gw"))) {
				t.Errorf("the error does not name both directories: %v", err)
			}
			_, err = cfg.ResolveCredential("edge", "nope")
			if want := "or the secrets directories " + a + ", " + b; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("missing secret: %v, want it to say %q", err, want)
			}
		})
	}
}
