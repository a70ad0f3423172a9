package irbuild

import (
	"strings"
	"testing"
)

// TestTLSVersionFields: an unknown version is reported at its own field's
// path (tlsVersion joins the path only for an error), a known one is
// accepted in any case, and an unset one stays unset.
func TestTLSVersionFields(t *testing.T) {
	_, err := buildYAML(t, "MUTUAL, minProtocolVersion: TLSV9", "")
	if err == nil || !strings.Contains(err.Error(), `spec.servers[0].tls.minProtocolVersion: unknown TLS version "TLSV9"`) {
		t.Errorf("unknown minimum: got %v", err)
	}
	_, err = buildYAML(t, "MUTUAL, maxProtocolVersion: TLSV9", "")
	if err == nil || !strings.Contains(err.Error(), `spec.servers[0].tls.maxProtocolVersion: unknown TLS version "TLSV9"`) {
		t.Errorf("unknown maximum: got %v", err)
	}
	p, err := buildYAML(t, "MUTUAL, maxProtocolVersion: tlsv1_3", "")
	if err != nil {
		t.Fatal(err)
	}
	if tls := p.Listeners[0].Chains[0].TLS; tls.MinVersion != "" || tls.MaxVersion != "TLSv1_3" {
		t.Errorf("versions = %q, %q; want unset, TLSv1_3", tls.MinVersion, tls.MaxVersion)
	}
}
