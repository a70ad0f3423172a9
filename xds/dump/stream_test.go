package dump

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/trustgate/trustgate/xds/translate"
)

// manyRoutes is n route configurations whose strings need JSON's HTML
// escaping (<, >, &, U+2028); many more than the writers' bound on items
// in flight (aheadPerWorker per worker).
func manyRoutes(n int) *translate.Resources {
	r := &translate.Resources{}
	for i := range n {
		r.Routes = append(r.Routes, &routev3.RouteConfiguration{
			Name: fmt.Sprintf("rc-%04d", i),
			VirtualHosts: []*routev3.VirtualHost{{
				Name: "vh", Domains: []string{fmt.Sprintf("h%d.example.com", i)},
				RequestHeadersToAdd: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-a", Value: "<b>&\u2028"}}},
			}},
		})
	}
	return r
}

// TestWriteJSONEqualsJSON: the streaming writer's output is JSON's, byte for
// byte, redacted or not.
func TestWriteJSONEqualsJSON(t *testing.T) {
	inputs := map[string]*translate.Resources{
		"rich":                     rich(t),
		"empty":                    {},
		"html characters, 1500 RC": manyRoutes(1500),
	}
	for name, r := range inputs {
		for _, show := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/show-secrets=%v", name, show), func(t *testing.T) {
				want, err := JSON(r, show)
				if err != nil {
					t.Fatalf("JSON: %v", err)
				}
				var got bytes.Buffer
				if err := WriteJSON(&got, r, show); err != nil {
					t.Fatalf("WriteJSON: %v", err)
				}
				if d := cmp.Diff(string(want), got.String()); d != "" {
					t.Errorf("WriteJSON differs from JSON (-JSON +WriteJSON):\n%s", d)
				}
			})
		}
	}
}

// TestWriteJSONGolden pins the writer to the golden file JSON is pinned to.
func TestWriteJSONGolden(t *testing.T) {
	var got bytes.Buffer
	if err := WriteJSON(&got, rich(t), false); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "rich.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got.String()); d != "" {
		t.Errorf("differs from rich.golden.json (-want +got):\n%s", d)
	}
}

// TestWriteJSONRedactsInsideTypedConfig: a key in a TlsCertificate inside a
// listener's Any is found without copying the listener first.
func TestWriteJSONRedactsInsideTypedConfig(t *testing.T) {
	// Two chains and two listeners with the same typed config: the scan
	// opens it once, and every copy is redacted.
	chain := keyedChains(t)
	l1 := &listenerv3.Listener{Name: "l1", FilterChains: []*listenerv3.FilterChain{chain(), chain()}}
	l2 := &listenerv3.Listener{Name: "l2", FilterChains: []*listenerv3.FilterChain{chain()}}
	var out bytes.Buffer
	if err := WriteJSON(&out, &translate.Resources{Listeners: []*listenerv3.Listener{l1, l2}}, false); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if s := out.String(); strings.Contains(s, "SECRET") || !strings.Contains(s, "CERT") || strings.Count(s, Redacted) != 3 {
		t.Errorf("want every copy of the key redacted and the certificate kept:\n%s", s)
	}
}

// TestWriteJSONErrors: a typed config that does not unmarshal fails the
// writer as it fails JSON, and a failing writer's error is returned.
func TestWriteJSONErrors(t *testing.T) {
	bad := &translate.Resources{Listeners: unknownAnyListeners()}
	if _, err := JSON(bad, false); err == nil {
		t.Fatal("JSON accepted an Any of an unknown type")
	}
	if err := WriteJSON(&bytes.Buffer{}, bad, false); err == nil {
		t.Error("WriteJSON accepted an Any of an unknown type")
	}
	errFull := errors.New("disk full")
	if err := WriteJSON(failingWriter{errFull}, manyRoutes(100), false); !errors.Is(err, errFull) {
		t.Errorf("WriteJSON to a failing writer = %v, want %v", err, errFull)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// TestWritersRedactEverySensitiveField: a sensitive field other than a
// TlsCertificate's key (a GenericSecret's secret) is redacted by both
// streamed writers, as by JSON and ConfigDumpJSON: the scan that spares
// resources the copy asks the protos' sensitive option, not a list.
func TestWritersRedactEverySensitiveField(t *testing.T) {
	r := &translate.Resources{Secrets: []*tlsv3.Secret{{Name: "generic", Type: &tlsv3.Secret_GenericSecret{GenericSecret: &tlsv3.GenericSecret{
		Secret: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "SECRET-TOKEN"}},
	}}}}}
	writers := map[string]func(*bytes.Buffer) error{
		"WriteJSON":           func(b *bytes.Buffer) error { return WriteJSON(b, r, false) },
		"WriteConfigDumpJSON": func(b *bytes.Buffer) error { return WriteConfigDumpJSON(b, r, false) },
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := write(&out); err != nil {
				t.Fatal(err)
			}
			if s := out.String(); strings.Contains(s, "SECRET-TOKEN") || strings.Count(s, Redacted) != 1 {
				t.Errorf("want the generic secret redacted:\n%s", s)
			}
		})
	}
}

// TestScanTypeSensitive: a TlsCertificate's sensitive fields are its
// private key, PKCS#12 bundle and password, read from the protos' option.
func TestScanTypeSensitive(t *testing.T) {
	var got []string
	for _, fd := range scanTypeOf((&tlsv3.TlsCertificate{}).ProtoReflect().Descriptor()).sensitive {
		got = append(got, string(fd.Name()))
	}
	if d := cmp.Diff([]string{"private_key", "pkcs12", "password"}, got); d != "" {
		t.Errorf("sensitive fields of TlsCertificate (-want +got):\n%s", d)
	}
}

// TestReaches: the scan skips only types that can hold neither a field
// marked sensitive nor an Any.
func TestReaches(t *testing.T) {
	tests := map[string]struct {
		m    proto.Message
		want bool
	}{
		"address":                {&corev3.Address{}, false},
		"data source":            {&corev3.DataSource{}, false},
		"generic secret":         {&tlsv3.GenericSecret{}, true},
		"TLS certificate":        {&tlsv3.TlsCertificate{}, true},
		"listener":               {&listenerv3.Listener{}, true},
		"secret":                 {&tlsv3.Secret{}, true},
		"downstream TLS context": {&tlsv3.DownstreamTlsContext{}, true},
		"route configuration":    {&routev3.RouteConfiguration{}, true}, // typed_per_filter_config
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := reaches(tc.m.ProtoReflect().Descriptor()); got != tc.want {
				t.Errorf("reaches = %v, want %v", got, tc.want)
			}
		})
	}
}
