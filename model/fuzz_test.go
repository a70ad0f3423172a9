package model

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load (as a file) and Validate: neither
// may panic or hang, whatever the input.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		positionsYAML, ccpGateway, resolveSecrets,
		ccpDoc("  targetRef: {kind: Gateway, name: gw, sectionName: mtls}\n  rejection: {status: 401}\n"),
		apDoc("  rules:\n  - when: [{key: source.ip, values: [10.0.0.0/8]}]\n"),
		"apiVersion: v1\nkind: List\nitems:\n- &a {apiVersion: v1, kind: Secret, metadata: {name: a}}\n- *a\n",
		"a: &a {b: *a}\n",
		gwDoc("  - &s\n    port: {number: 443, protocol: HTTPS}\n    hosts: [a]\n  - <<: *s\n"),
		"apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  servers:\n  - tls: {serverCertificate: ../x, caCertificates: /dev/zero}\n",
		// Syntax errors followed by more documents, and an unknown field.
		"a: [1\n---\nkind: {\n--- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n---\n" + gwDoc("  - hostz: [a]\n"),
		"a: |\n  x\n---\n\t\n---\r\n--- &a [*a\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		// One file per worker process, rewritten by each input: a fresh
		// temporary directory per input would dominate the run time.
		p := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, loadErr := Load(LoadOptions{Paths: []string{p}})
		if cfg == nil {
			t.Fatalf("Load returned a nil Config (error %v)", loadErr)
		}
		validateErr := cfg.Validate()
		for _, err := range []error{loadErr, validateErr} {
			if err != nil && err.Error() == "" {
				t.Errorf("an error with an empty message: %#v", err)
			}
		}
	})
}
