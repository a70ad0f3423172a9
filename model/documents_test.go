package model

import (
	"strings"
	"testing"
)

func TestLoadDocuments(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		want string // the error, "" for none
	}{
		"decoded like a file": {
			doc: `{"apiVersion":"networking.istio.io/v1","kind":"Gateway","metadata":{"name":"gw","namespace":"edge"},"spec":{"servers":[],"selektor":{}}}`,
			// No file and no line: the object names itself.
			want: `Gateway edge/gw: spec.selektor: unknown field "selektor"`,
		},
		"file fields refused": {
			doc:  `{"apiVersion":"networking.istio.io/v1","kind":"Gateway","metadata":{"name":"gw","namespace":"edge"},"spec":{"selector":{"a":"b"},"servers":[{"port":{"number":443,"name":"https","protocol":"HTTPS"},"hosts":["a.example.com"],"tls":{"mode":"SIMPLE","serverCertificate":"/var/run/secrets/kubernetes.io/serviceaccount/token"}}]}}`,
			want: `Gateway edge/gw: spec.servers[0].tls.serverCertificate: file fields are not read from the Kubernetes API`,
		},
		"a secret": {
			doc: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"edge"},"data":{"ca.crt":"bm90IGJhc2U2NA=="}}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadDocuments([][]byte{[]byte(tc.doc)})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("error = %v, want it to start with %q", err, tc.want)
			}
			if cfg == nil {
				t.Fatal("no Config")
			}
			for _, s := range cfg.Secrets {
				if got := s.Origin(); got != "Secret edge/s" {
					t.Errorf("origin of an API Secret = %q, want its reference", got)
				}
			}
		})
	}
}

func TestPositionAt(t *testing.T) {
	file := Position{File: "gw.yaml", Line: 3, Lines: map[string]int{"spec.hosts": 7}}
	for name, tc := range map[string]struct {
		pos  Position
		path string
		want string
	}{
		"object in a file": {file, "", " (gw.yaml:3)"},
		"field in a file":  {file, "spec.hosts[0]", " (gw.yaml:7)"},
		"from the API":     {Position{}, "spec.hosts", ""},
	} {
		t.Run(name, func(t *testing.T) {
			if got := tc.pos.At(tc.path); got != tc.want {
				t.Errorf("At(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}
