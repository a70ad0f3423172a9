package dump

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/translate"
	"github.com/trustgate/trustgate/xds/translate/translatetest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// rich translates the rich fixture.
func rich(t *testing.T) *translate.Resources {
	t.Helper()
	r, err := translate.Translate(translatetest.RichProxy())
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	return r
}

// b64 is how protojson prints bytes.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// jsonText is how JSON prints a string (quotes stripped).
func jsonText(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[1 : len(b)-1])
}

func TestRedaction(t *testing.T) {
	tests := map[string]struct {
		render     func(*translate.Resources, bool) ([]byte, error)
		show       bool
		wantKey    bool
		redactions int
	}{
		"redacted by default":              {render: JSON, show: false, wantKey: false, redactions: 2},
		"shown on request":                 {render: JSON, show: true, wantKey: true, redactions: 0},
		"config dump, redacted by default": {render: ConfigDumpJSON, show: false, wantKey: false, redactions: 2},
		"config dump, shown on request":    {render: ConfigDumpJSON, show: true, wantKey: true, redactions: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := tc.render(rich(t), tc.show)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			s := string(out)
			if got := strings.Contains(s, jsonText(t, translatetest.KeyPEM)); got != tc.wantKey {
				t.Errorf("private key present = %v, want %v", got, tc.wantKey)
			}
			if !strings.Contains(s, b64(translatetest.CertPEM)) || !strings.Contains(s, b64(translatetest.CAPEM)) {
				t.Error("certificates must be kept")
			}
			if got := strings.Count(s, `"`+Redacted+`"`); got != tc.redactions {
				t.Errorf("%d redactions, want %d", got, tc.redactions)
			}
		})
	}
}

// TestRedactionInsideTypedConfig covers a key inlined in a listener's TLS
// context (translate never emits one, other producers might).
func TestRedactionInsideTypedConfig(t *testing.T) {
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{TlsCertificates: []*tlsv3.TlsCertificate{{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "CERT"}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "SECRET-KEY"}},
		Password:         &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "SECRET-PASS"}},
	}}}}
	a, err := anypb.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := &listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{{
		TransportSocket: &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}},
	}}}
	before := proto.Clone(l)
	out, err := JSON(&translate.Resources{Listeners: []*listenerv3.Listener{l}}, false)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	s := string(out)
	if strings.Contains(s, "SECRET") || !strings.Contains(s, "CERT") || strings.Count(s, Redacted) != 2 {
		t.Errorf("want key and password redacted, certificate kept:\n%s", s)
	}
	if d := cmp.Diff(before, l, protocmp.Transform()); d != "" {
		t.Errorf("JSON modified its input (-before +after):\n%s", d)
	}
}

func TestEmpty(t *testing.T) {
	out, err := JSON(&translate.Resources{}, false)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	want := "{\n  \"listeners\": [],\n  \"routes\": [],\n  \"clusters\": [],\n  \"endpoints\": [],\n  \"secrets\": []\n}\n"
	if d := cmp.Diff(want, string(out)); d != "" {
		t.Errorf("empty dump (-want +got):\n%s", d)
	}
}

// TestGolden pins the exact output for the rich fixture. protojson varies
// its whitespace from one build to another on purpose, so only a file
// written by an earlier build shows that the re-indenting makes the output
// stable. Regenerate with -update and read the diff before committing.
func TestGolden(t *testing.T) {
	tests := map[string]func(*translate.Resources, bool) ([]byte, error){
		"rich.golden.json":            JSON,
		"rich.golden.yaml":            YAML,
		"rich.configdump.golden.json": ConfigDumpJSON,
		"rich.configdump.golden.yaml": ConfigDumpYAML,
	}
	for file, render := range tests {
		t.Run(file, func(t *testing.T) {
			got, err := render(rich(t), false)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			again, err := render(rich(t), false)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if !bytes.Equal(got, again) {
				t.Fatal("two renderings of one input differ")
			}
			path := filepath.Join("testdata", file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("%s differs (-want +got):\n%s", path, d)
			}
		})
	}
}

// TestDocumentShape checks the top-level keys and their order.
func TestDocumentShape(t *testing.T) {
	out, err := JSON(rich(t), false)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				keys = append(keys, v)
			}
		}
	}
	want := []string{"listeners", "routes", "clusters", "endpoints", "secrets"}
	if d := cmp.Diff(want, keys); d != "" {
		t.Errorf("top-level keys (-want +got):\n%s", d)
	}
}
