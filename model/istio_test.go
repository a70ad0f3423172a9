package model

import (
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kubectlSecret renders what `kubectl create secret generic --dry-run=client
// -o yaml` prints for the Istio task's httpbin-credential.
func kubectlSecret(p testPKI) string {
	b64 := base64.StdEncoding.EncodeToString
	return "apiVersion: v1\ndata:\n  ca.crt: " + b64(p.CA) + "\n  tls.crt: " + b64(p.Cert) + "\n  tls.key: " + b64(p.Key) +
		"\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: httpbin-credential\n  namespace: istio-system\n"
}

func TestIstioSecureGatewayTask(t *testing.T) {
	p := getPKI(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"secret.yaml": kubectlSecret(p)})
	fixture := filepath.Join("testdata", "istio-secure-gateway")
	cfg, err := Load(LoadOptions{Paths: []string{fixture, filepath.Join(dir, "secret.yaml")}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(cfg.Gateways) != 1 || len(cfg.VirtualServices) != 1 || len(cfg.Secrets) != 1 {
		t.Fatalf("loaded %d gateways, %d virtual services, %d secrets; want 1 each", len(cfg.Gateways), len(cfg.VirtualServices), len(cfg.Secrets))
	}
	gw, vs := cfg.Gateways[0], cfg.VirtualServices[0]
	wantServer := Server{
		Port:  Port{Number: 443, Name: "https", Protocol: "HTTPS"},
		Hosts: []string{"httpbin.example.com"},
		TLS:   &ServerTLSSettings{Mode: "MUTUAL", CredentialName: "httpbin-credential"},
	}
	if diff := cmp.Diff([]Server{wantServer}, gw.Spec.Servers); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	if gw.Ref() != "Gateway default/mygateway" || gw.Spec.Selector["istio"] != "ingressgateway" {
		t.Errorf("gateway = %s, selector %v", gw.Ref(), gw.Spec.Selector)
	}
	wantHTTP := []HTTPRoute{{
		Match: []HTTPMatchRequest{{URI: &StringMatch{Prefix: "/status"}}, {URI: &StringMatch{Prefix: "/delay"}}},
		Route: []HTTPRouteDestination{{Destination: Destination{Host: "httpbin", Port: &PortSelector{Number: 8000}}}},
	}}
	if diff := cmp.Diff(wantHTTP, vs.Spec.HTTP); diff != "" {
		t.Errorf("http routes (-want +got):\n%s", diff)
	}
	secretFile := filepath.Join(dir, "secret.yaml")
	tests := map[string]struct {
		resolve func() (*Credential, error)
		want    *Credential
	}{
		"the server certificate, from istio-system": {
			resolve: func() (*Credential, error) { return cfg.ResolveCredential("default", "httpbin-credential") },
			want: &Credential{Name: "httpbin-credential", Namespace: "istio-system", Origin: secretFile + ":1 Secret istio-system/httpbin-credential",
				Cert: p.Cert, Key: p.Key, CA: p.CA},
		},
		"the client CA, from the same secret (no -cacert secret)": {
			resolve: func() (*Credential, error) { return cfg.ResolveCACredential("default", "httpbin-credential") },
			want: &Credential{Name: "httpbin-credential", Namespace: "istio-system", Origin: secretFile + ":1 Secret istio-system/httpbin-credential",
				CA: p.CA},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := tc.resolve()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
		})
	}
}
