package xdstls_test

import (
	"os"
	"testing"

	"github.com/trustgate/trustgate/xds/xdstls"
)

// TestKeyPairReloads: a rotated pair is served on the next handshake; a
// certificate written before its key (mid-rotation) or a broken key keeps
// the last good pair, logged once per change.
func TestKeyPairReloads(t *testing.T) {
	e := newEnv(t)
	kp, err := xdstls.NewKeyPair("webhook certificate", e.files.Cert, e.files.Key, e.logger())
	if err != nil {
		t.Fatal(err)
	}
	serial := func() string {
		t.Helper()
		c, err := kp.GetCertificate(nil)
		if err != nil || c == nil || c.Leaf == nil {
			t.Fatalf("GetCertificate = %v, %v", c, err)
		}
		return c.Leaf.SerialNumber.String()
	}
	first := serial()

	if _, err := e.pki.Server("trustgate", true, "trustgate.internal", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	newKey, err := os.ReadFile(e.files.Key)
	if err != nil {
		t.Fatal(err)
	}
	// Mid-rotation: the new certificate beside a key that is not its own.
	if err := os.WriteFile(e.files.Key, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	touch(t, e.files.Key, 1)
	touch(t, e.files.Cert, 1)
	if got := serial(); got != first {
		t.Fatalf("serial %s with a key that does not match, want the last good %s", got, first)
	}
	if err := os.WriteFile(e.files.Key, newKey, 0o600); err != nil {
		t.Fatal(err)
	}
	touch(t, e.files.Key, 2)
	if got := serial(); got == first {
		t.Fatalf("serial %s after rotation, want a new certificate", got)
	}
	e.checkOneReloadError(t)
}

func TestNewKeyPairRejects(t *testing.T) {
	e := newEnv(t)
	if _, err := xdstls.NewKeyPair("webhook certificate", e.files.Cert, e.files.ClientCA, e.logger()); err == nil {
		t.Error("a CA certificate as the key loaded")
	}
}
