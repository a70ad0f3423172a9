package model

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// resolveSecrets is the secrets document set of the resolver tests; line
// numbers matter (origins name them).
var resolveSecrets = strings.Join([]string{
	"apiVersion: v1\nkind: Secret\nmetadata: {name: in-web, namespace: web}\nstringData: {tls.crt: C1, tls.key: K1}\n",                // line 1
	"apiVersion: v1\nkind: Secret\nmetadata: {name: in-workload, namespace: istio-system}\nstringData: {tls.crt: C2, tls.key: K2}\n",  // 6
	"apiVersion: v1\nkind: Secret\nmetadata: {name: elsewhere, namespace: other}\nstringData: {tls.crt: C3}\n",                        // 11
	"apiVersion: v1\nkind: Secret\nmetadata: {name: twice, namespace: web}\nstringData: {tls.crt: A}\n",                               // 16
	"apiVersion: v1\nkind: Secret\nmetadata: {name: twice, namespace: istio-system}\nstringData: {tls.crt: B}\n",                      // 21
	"apiVersion: v1\nkind: Secret\nmetadata: {name: same, namespace: web}\nstringData: {tls.crt: S}\n",                                // 26
	"apiVersion: v1\nkind: Secret\nmetadata: {name: httpbin-credential, namespace: web}\nstringData: {tls.crt: H, ca.crt: HA}\n",      // 31
	"apiVersion: v1\nkind: Secret\nmetadata: {name: httpbin-credential-cacert, namespace: web}\nstringData: {cacert: CA, crl: CRL}\n", // 36
	"apiVersion: v1\nkind: Secret\nmetadata: {name: own-ca, namespace: web}\nstringData: {tls.crt: O, ca.crt: OA, ca.crl: OR}\n",      // 41
	"apiVersion: v1\nkind: Secret\nmetadata: {name: no-ca, namespace: web}\nstringData: {tls.crt: N, tls.key: NK}\n",                  // 46
	"apiVersion: v1\nkind: Secret\nmetadata: {name: bad-cacert-cacert, namespace: web}\nstringData: {tls.crt: X}\n",                   // 51
	"apiVersion: v1\nkind: Secret\nmetadata: {name: bad-cacert, namespace: web}\nstringData: {ca.crt: Y}\n",                           // 56
}, "---\n")

func loadResolveConfig(t *testing.T) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"conf/secrets.yaml": resolveSecrets,
		"sd/in-dir/tls.crt": "C4", "sd/in-dir/tls.key": "K4",
		"sd/same/tls.crt": "S",
	})
	cfg, err := Load(LoadOptions{Paths: []string{filepath.Join(dir, "conf")}, SecretsDirs: []string{filepath.Join(dir, "sd")}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg, dir
}

func TestResolveCredential(t *testing.T) {
	cfg, dir := loadResolveConfig(t)
	file := filepath.Join(dir, "conf/secrets.yaml")
	tests := map[string]resolveCase{
		"the object's namespace": {
			name: "in-web",
			want: &Credential{Name: "in-web", Namespace: "web", Origin: file + ":1 Secret web/in-web", Cert: []byte("C1"), Key: []byte("K1")},
		},
		"the workload's namespace": {
			name: "in-workload",
			want: &Credential{Name: "in-workload", Namespace: "istio-system", Origin: file + ":6 Secret istio-system/in-workload", Cert: []byte("C2"), Key: []byte("K2")},
		},
		"the secrets directory": {
			name: "in-dir",
			want: &Credential{Name: "in-dir", Origin: filepath.Join(dir, "sd/in-dir"), Cert: []byte("C4"), Key: []byte("K4")},
		},
		"identical copies are one secret, the namespace's first": {
			name: "same",
			want: &Credential{Name: "same", Namespace: "web", Origin: file + ":26 Secret web/same", Cert: []byte("S")},
		},
		"differing copies are ambiguous": {
			name:    "twice",
			wantErr: `secret "twice" is ambiguous: ` + file + `:16 Secret web/twice, ` + file + `:21 Secret istio-system/twice define it differently; keep one`,
			is:      ErrSecretAmbiguous,
		},
		"another namespace is not visible": {
			name:    "elsewhere",
			wantErr: `secret "elsewhere" not found in namespaces "web" and "istio-system" or the secrets directory ` + filepath.Join(dir, "sd"),
			is:      ErrSecretNotFound,
		},
		"missing, with a suggestion": {
			name:    "httpbin-credentail",
			wantErr: `secret "httpbin-credentail" not found in namespaces "web" and "istio-system" or the secrets directory ` + filepath.Join(dir, "sd") + ` (did you mean "httpbin-credential"?)`,
			is:      ErrSecretNotFound,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := cfg.ResolveCredential("web", tc.name)
			checkResolve(t, got, err, tc)
		})
	}
}

// resolveCase is a credential name and what resolving it gives: want, or an
// error reading wantErr for which errors.Is(err, is) holds.
type resolveCase struct {
	name    string
	want    *Credential
	wantErr string
	is      error
}

func checkResolve(t *testing.T, got *Credential, err error, tc resolveCase) {
	t.Helper()
	want, wantErr, is := tc.want, tc.wantErr, tc.is
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Fatalf("error = %v\nwant    %s", err, wantErr)
		}
		if !errors.Is(err, is) {
			t.Errorf("errors.Is(err, %v) = false", is)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("credential (-want +got):\n%s", diff)
	}
}

func TestResolveCACredential(t *testing.T) {
	cfg, dir := loadResolveConfig(t)
	file := filepath.Join(dir, "conf/secrets.yaml")
	tests := map[string]resolveCase{
		"<name>-cacert wins over the secret's own ca.crt": {
			name: "httpbin-credential",
			want: &Credential{Name: "httpbin-credential-cacert", Namespace: "web", Origin: file + ":36 Secret web/httpbin-credential-cacert", CA: []byte("CA"), CRL: []byte("CRL")},
		},
		"the secret's own CA without a -cacert secret": {
			name: "own-ca",
			want: &Credential{Name: "own-ca", Namespace: "web", Origin: file + ":41 Secret web/own-ca", CA: []byte("OA"), CRL: []byte("OR")},
		},
		"a secret without a CA": {
			name:    "no-ca",
			wantErr: `secret "no-ca" (` + file + `:46 Secret web/no-ca) has no CA: expected key cacert or ca.crt; found: tls.crt, tls.key; add ca.crt, or create secret "no-ca-cacert"`,
			is:      ErrNoCA,
		},
		"a -cacert secret without a CA does not fall back": {
			name:    "bad-cacert",
			wantErr: `secret "bad-cacert-cacert" (` + file + `:51 Secret web/bad-cacert-cacert) has no CA: expected key cacert or ca.crt; found: tls.crt`,
			is:      ErrNoCA,
		},
		"neither exists": {
			name:    "own-cb",
			wantErr: `secrets "own-cb-cacert" and "own-cb" not found in namespaces "web" and "istio-system" or the secrets directory ` + filepath.Join(dir, "sd") + ` (did you mean "own-ca"?)`,
			is:      ErrSecretNotFound,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := cfg.ResolveCACredential("web", tc.name)
			checkResolve(t, got, err, tc)
		})
	}
}

func TestDidYouMean(t *testing.T) {
	cands := []string{"httpbin-credential", "api-cert", "api-certs", "zzz"}
	tests := map[string]struct {
		name, want string
	}{
		"transposition":                  {"httpbin-credentail", ` (did you mean "httpbin-credential"?)`},
		"closest of two":                 {"api-cer", ` (did you mean "api-cert"?)`},
		"nothing close":                  {"completely-different", ""},
		"an exact name is no suggestion": {"zzz", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := didYouMean(tc.name, cands); got != tc.want {
				t.Errorf("didYouMean(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}
