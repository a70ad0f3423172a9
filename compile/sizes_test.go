package compile_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/model"
)

// sizeGateway has one MUTUAL server per client CA bundle ca-<i>: every
// bundle is a secret of the same proxy group, sent in one SDS response.
func sizeGateway(bundles int) string {
	var b strings.Builder
	b.WriteString("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: edge}\nspec:\n  selector: {app: edge}\n  servers:\n")
	for i := range bundles {
		fmt.Fprintf(&b, "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [h%d.example.com]\n    tls: {mode: MUTUAL, credentialName: server, caCertCredentialName: ca-%d}\n", i, i)
	}
	return b.String()
}

// sizePKI is a secrets directory with a wildcard server certificate and
// bundles client CA entries ca-<i>, each the development CA repeated to at
// least size bytes.
func sizePKI(t testing.TB, dir string, bundles, size int) string {
	t.Helper()
	secrets := serverPKI(t, dir, "*.example.com")
	for i := range bundles {
		writeBundle(t, secrets, fmt.Sprintf("ca-%d", i), size)
	}
	return secrets
}

// writeBundle writes the entry name's ca.crt: the development CA repeated to
// at least size bytes.
func writeBundle(t testing.TB, secrets, name string, size int) {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(secrets, "client-ca", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(secrets, name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, name, "ca.crt"), bytes.Repeat(ca, max(size/len(ca), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOversizeSecretRefused loads a Secret document holding a 70 MB CA
// bundle: no response can carry it (the server sends 64 MiB at most), so
// Load fails, for check and for serve alike, naming the file, instead of
// every push to the group failing later. The loader's own cap on a YAML
// file (64 MiB) refuses it first; the per-secret check behind it is the
// backstop for secrets that reach a group some other way.
func TestOversizeSecretRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := sizePKI(t, dir, 0, 0)
	ca, err := os.ReadFile(filepath.Join(secrets, "client-ca", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	var doc strings.Builder
	doc.WriteString(sizeGateway(1))
	doc.WriteString("---\napiVersion: v1\nkind: Secret\nmetadata: {name: ca-0, namespace: edge}\nstringData:\n  ca.crt: |\n")
	for pem := 0; pem < 70_000_000; pem += len(ca) {
		for line := range strings.SplitSeq(strings.TrimSpace(string(ca)), "\n") {
			doc.WriteString("    " + line + "\n")
		}
	}
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secrets}}, compile.WithExpiryWarning(0), compile.ForServe())
	if err == nil {
		t.Fatal("a 70 MB CA bundle loaded")
	}
	want := path + " is larger than 67108864 bytes"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error:\n%v\nwant it to contain\n%s", err, want)
	}
}

// TestOversizeResponseRefused loads five client CA bundles of 14 MB each,
// each within the 16 MiB a file may have, but together over what one SDS
// response may carry: Load fails naming the proxy group and the largest
// secrets with where they come from. (Where exactly the limit falls is
// sendlimit's test.)
func TestOversizeResponseRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := sizePKI(t, dir, 5, 14_000_000)
	path := filepath.Join(dir, "gw.yaml")
	if err := os.WriteFile(path, []byte(sizeGateway(5)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := compile.Load(model.LoadOptions{Paths: []string{path}, SecretsDirs: []string{secrets}}, compile.WithExpiryWarning(0))
	if err == nil {
		t.Fatal("5 bundles of 14 MB loaded")
	}
	for _, want := range []string{
		`proxy group "app=edge": the 6 secret resources take 70.0 MB in one response, over the 64 MiB the server sends`,
		`"kubernetes://secrets/ca-0-cacert" (14.0 MB, from ` + filepath.Join(secrets, "ca-0") + ")",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error:\n%v\nwant it to contain\n%s", err, want)
		}
	}
}
