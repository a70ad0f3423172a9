package examples_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/compile"
	"github.com/trustgate/trustgate/labelset"
	"github.com/trustgate/trustgate/model"
	"github.com/trustgate/trustgate/xds/envoymodel/envoymodeltest"
	"github.com/trustgate/trustgate/xds/envoymodel/props"
)

// examplesReport is the reviewed record of the properties that fail on
// the examples' output today (see xds/envoymodel/props).
var examplesReport = filepath.Join("..", "xds", "envoymodel", "props", "testdata", "examples.violations")

// TestExampleProperties runs the security properties of package props on
// every example (its certificates made by certs.sh, every client
// certificate found there plus one from a foreign CA) and compares the
// violations with the record; -update rewrites it. It also runs `trustgate
// check` on every example, which runs the properties with clients of its
// own making (twins of the example's CAs): it exits 0 with no error.
func TestExampleProperties(t *testing.T) {
	stranger := envoymodeltest.NewPKI(t).Clients[envoymodeltest.Stranger]
	var b strings.Builder
	for _, name := range exampleDirs(t) {
		ex := prepare(t, name)
		generated, err := filepath.Glob(filepath.Join(ex.certs, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		paths := append(checkLayout(t, ex.dir), generated...)
		cfg, err := compile.Load(model.LoadOptions{Paths: paths, SecretsDirs: []string{ex.certs}}, compile.ForServe())
		if err != nil {
			t.Fatal(err)
		}
		checkCmd := exec.Command(filepath.Join(binDir, "trustgate"), append([]string{"check", "--secrets-dir", ex.certs, "--config"}, paths...)...)
		if out, err := checkCmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "\n0 error(s)") && !strings.HasPrefix(string(out), "0 error(s)") {
			t.Errorf("%s: trustgate check: %v\n%s", name, err, out)
		}
		clients := append(exampleClients(t, ex.certs), props.Client{Name: "stranger (another CA)", Chain: stranger})
		for _, labels := range cfg.Selectors() {
			res, err := cfg.Compile(labels)
			if err != nil {
				t.Fatal(err)
			}
			vs, err := props.Check(cfg.Model(), labels, envoymodeltest.FromTranslate(res), clients, time.Now())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			envoymodeltest.WriteViolations(&b, fmt.Sprintf("%s [%s]", name, labelset.Key(labels)), vs)
		}
	}
	envoymodeltest.CompareReport(t, examplesReport, b.String())
}

// exampleClients are the client certificates certs.sh made: every
// secret directory whose tls.crt is for client authentication.
func exampleClients(t *testing.T, dir string) []props.Client {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []props.Client
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "tls.crt"))
		if err != nil {
			continue
		}
		var chain []*x509.Certificate
		for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			chain = append(chain, c)
		}
		if len(chain) > 0 && hasUsage(chain[0], x509.ExtKeyUsageClientAuth) {
			out = append(out, props.Client{Name: e.Name(), Chain: chain})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// hasUsage reports whether a certificate allows an extended key usage.
func hasUsage(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	for _, e := range c.ExtKeyUsage {
		if e == u {
			return true
		}
	}
	return false
}
