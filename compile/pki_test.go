package compile_test

import (
	"path/filepath"
	"testing"

	"github.com/trustgate/trustgate/certs"
)

// serverPKI makes a development PKI in dir/secrets with the server
// certificate "server" for host, and returns dir/secrets.
func serverPKI(t testing.TB, dir, host string) string {
	t.Helper()
	secrets := filepath.Join(dir, "secrets")
	if err := certs.Init(secrets, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Issue(secrets, certs.KindServer, certs.IssueOptions{Name: "server", Hosts: []string{host}}); err != nil {
		t.Fatal(err)
	}
	return secrets
}
