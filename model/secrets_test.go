package model

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSecretDocuments(t *testing.T) {
	p := getPKI(t)
	tests := map[string]struct {
		yaml string
		want *Credential
	}{
		"kubernetes.io/tls keys in data": {
			yaml: secretDoc("istio-system", "s", map[string][]byte{"tls.crt": p.Cert, "tls.key": p.Key, "ca.crt": p.CA, "ca.crl": p.CRL}),
			want: &Credential{Cert: p.Cert, Key: p.Key, CA: p.CA, CRL: p.CRL},
		},
		"generic keys in stringData": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\nstringData:\n  cert: C\n  key: K\n  cacert: A\n  crl: R\n",
			want: &Credential{Cert: []byte("C"), Key: []byte("K"), CA: []byte("A"), CRL: []byte("R")},
		},
		"stringData wins over data": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\ndata:\n  tls.crt: ZGF0YQ==\nstringData:\n  tls.crt: string\n",
			want: &Credential{Cert: []byte("string")},
		},
		"cert and key win over tls.crt and tls.key, cacert over ca.crt, crl over ca.crl": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\nstringData:\n  cert: C\n  key: K\n  tls.crt: TC\n  tls.key: TK\n  cacert: A\n  ca.crt: TA\n  crl: R\n  ca.crl: TR\n",
			want: &Credential{Cert: []byte("C"), Key: []byte("K"), CA: []byte("A"), CRL: []byte("R")},
		},
		"a lone cert falls back to the tls pair": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\nstringData:\n  cert: C\n  tls.crt: TC\n  tls.key: TK\n",
			want: &Credential{Cert: []byte("TC"), Key: []byte("TK")},
		},
		"base64 wrapped over lines": {
			yaml: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: istio-system}\ndata:\n  ca.crt: |\n    Q0Et\n    Q0VSVA==\n",
			want: &Credential{CA: []byte("CA-CERT")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, errs := loadText(t, tc.yaml)
			if errs != nil {
				t.Fatalf("Load: %v", errs)
			}
			got, err := cfg.ResolveCredential("default", "s")
			if err != nil {
				t.Fatalf("ResolveCredential: %v", err)
			}
			tc.want.Name, tc.want.Namespace = "s", "istio-system"
			tc.want.Origin = cfg.Secrets[0].Pos.File + ":1 Secret istio-system/s"
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
		})
	}
}

// mountSecret lays out a Kubernetes Secret volume: the keys in a
// timestamped directory, "..data" pointing at it, one symlink per key.
func mountSecret(t *testing.T, dir string, kv map[string]string) {
	t.Helper()
	ts := "..2024_06_01_10_00_00.987654321"
	files := map[string]string{}
	for k, v := range kv {
		files[filepath.Join(ts, k)] = v
	}
	writeFiles(t, dir, files)
	symlink(t, ts, filepath.Join(dir, "..data"))
	for k := range kv {
		symlink(t, filepath.Join("..data", k), filepath.Join(dir, k))
	}
}

func TestSecretsDir(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "secrets")
	mountSecret(t, filepath.Join(sd, "httpbin"), map[string]string{"tls.crt": "C", "tls.key": "K", "ca.crt": "A", "ca.crl": "R", "tls.ocsp-staple": "O"})
	writeFiles(t, sd, map[string]string{"plain/cert": "C2", "plain/key": "K2", "plain/cacert": "A2", ".hidden/tls.crt": "H"})
	cfg, err := Load(LoadOptions{SecretsDir: sd})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Secrets) != 2 {
		t.Fatalf("got %d secrets, want 2 (httpbin, plain)", len(cfg.Secrets))
	}
	tests := map[string]struct {
		name string
		want *Credential
	}{
		"mounted with ..data": {
			name: "httpbin",
			want: &Credential{Name: "httpbin", Origin: filepath.Join(sd, "httpbin"), Cert: []byte("C"), Key: []byte("K"), CA: []byte("A"), CRL: []byte("R")},
		},
		"plain files with Istio's generic names": {
			name: "plain",
			want: &Credential{Name: "plain", Origin: filepath.Join(sd, "plain"), Cert: []byte("C2"), Key: []byte("K2"), CA: []byte("A2")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := cfg.ResolveCredential("any-namespace", tc.name)
			if err != nil {
				t.Fatalf("ResolveCredential: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecretsDirErrors(t *testing.T) {
	tests := map[string]struct {
		setup func(t *testing.T, sd string)
		want  func(sd string) []string
	}{
		"a key file at the top level": {
			setup: func(t *testing.T, sd string) { writeFiles(t, sd, map[string]string{"tls.crt": "C", "README": "x"}) },
			want: func(sd string) []string {
				return []string{"secrets/tls.crt: secrets directory holds a key file; expected one sub-directory per secret (" + sd + "/<name>/tls.crt)"}
			},
		},
		"missing directory": {
			setup: func(t *testing.T, sd string) {},
			want: func(sd string) []string {
				return []string{"secrets: secrets directory: open " + sd + ": no such file or directory"}
			},
		},
		"a key that is not a regular file": {
			setup: func(t *testing.T, sd string) {
				writeFiles(t, sd, map[string]string{"s/tls.key/x": "x", "s/tls.crt": "C"})
			},
			want: func(sd string) []string {
				return []string{"secrets/s: Secret s: tls.key: " + sd + "/s/tls.key is a directory, not a regular file; trustgate reads only regular files"}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			sd := filepath.Join(dir, "secrets")
			tc.setup(t, sd)
			_, err := Load(LoadOptions{SecretsDir: sd})
			if diff := cmp.Diff(tc.want(sd), errorLines(err, dir)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

const fileFieldsYAML = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers:
  - port: {number: 443, protocol: HTTPS}
    hosts: [a.example.com]
    tls:
      mode: MUTUAL
      serverCertificate: certs/server.pem
      privateKey: ABSKEY
      caCertificates: ./certs/../certs/ca.pem
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr}
spec:
  host: backend
  subsets:
  - name: v1
    trafficPolicy:
      tls: {mode: MUTUAL, clientCertificate: certs/server.pem, privateKey: ABSKEY, caCrl: certs/missing.crl}
`

func TestFileFields(t *testing.T) {
	dir := t.TempDir()
	keyDir := t.TempDir()
	absKey := filepath.Join(keyDir, "key.pem")
	writeFiles(t, keyDir, map[string]string{"key.pem": "KEY"})
	writeFiles(t, dir, map[string]string{
		"conf/gw.yaml":          replaceAll(fileFieldsYAML, "ABSKEY", absKey),
		"conf/certs/server.pem": "CERT", "conf/certs/ca.pem": "CA",
	})
	cfg, err := Load(LoadOptions{Paths: []string{filepath.Join(dir, "conf")}})
	wantErrs := []string{"conf/gw.yaml:22: DestinationRule default/dr: spec.subsets[0].trafficPolicy.tls.caCrl: file " +
		filepath.Join(dir, "conf/certs/missing.crl") + " not found"}
	if diff := cmp.Diff(wantErrs, errorLines(err, dir)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	gw, dr := &cfg.Gateways[0].Object, &cfg.DestinationRules[0].Object
	tests := map[string]struct {
		obj  *Object
		path string
		want string
	}{
		"relative to the YAML file":    {gw, "certs/server.pem", "CERT"},
		"absolute":                     {gw, absKey, "KEY"},
		"uncleaned relative path":      {gw, "./certs/../certs/ca.pem", "CA"},
		"shared by another object":     {dr, "certs/server.pem", "CERT"},
		"missing file is not in Files": {dr, "certs/missing.crl", ""},
		"never named by a field":       {gw, "certs/other.pem", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, ok := cfg.File(tc.obj, tc.path)
			if string(b) != tc.want || ok != (tc.want != "") {
				t.Errorf("File(%q) = %q, %v; want %q", tc.path, b, ok, tc.want)
			}
		})
	}
	wantKeys := []string{filepath.Join(dir, "conf/certs/ca.pem"), filepath.Join(dir, "conf/certs/server.pem"), absKey}
	if diff := cmp.Diff(wantKeys, sortedKeys(cfg.Files)); diff != "" {
		t.Errorf("Files keys (-want +got):\n%s", diff)
	}
}
