package model

import "testing"

// TestGatewayFileFieldsSkipsOnlyEmptyServers: a server is skipped only when
// none of its four file fields is set (both users ignore empty values);
// any one set field, the last included, still counts.
func TestGatewayFileFieldsSkipsOnlyEmptyServers(t *testing.T) {
	g := &Gateway{}
	g.Spec.Servers = []Server{
		{TLS: &ServerTLSSettings{CredentialName: "c"}},
		{},
		{TLS: &ServerTLSSettings{CACrl: "ca.crl"}},
	}
	var set []string
	for _, f := range gatewayFileFields(g) {
		if f.value != "" {
			set = append(set, f.path)
		}
	}
	if len(set) != 1 || set[0] != "spec.servers[2].tls.caCrl" {
		t.Errorf("set file fields = %q, want [spec.servers[2].tls.caCrl]", set)
	}
}
