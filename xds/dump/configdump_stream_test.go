package dump

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/translate"
)

// keyedChains makes filter chains that all inline one typed config: a TLS
// context with the certificate "CERT" and the private key "SECRET-KEY".
func keyedChains(t *testing.T) func() *listenerv3.FilterChain {
	t.Helper()
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{TlsCertificates: []*tlsv3.TlsCertificate{{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "CERT"}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "SECRET-KEY"}},
	}}}}
	a, err := anypb.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return func() *listenerv3.FilterChain {
		return &listenerv3.FilterChain{TransportSocket: &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}}
	}
}

// unknownAnyListeners is a listener whose chain's typed config is of a type
// no one knows: rendering it fails.
func unknownAnyListeners() []*listenerv3.Listener {
	return []*listenerv3.Listener{{Name: "l", FilterChains: []*listenerv3.FilterChain{{
		TransportSocket: &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{
			TypedConfig: &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type", Value: []byte{1}},
		}},
	}}}}
}

// keyedListeners is two listeners whose chains inline a TLS context with a
// private key (the same typed config three times) and a secret with one.
func keyedListeners(t *testing.T) *translate.Resources {
	t.Helper()
	chain := keyedChains(t)
	return &translate.Resources{
		Listeners: []*listenerv3.Listener{
			{Name: "l1", FilterChains: []*listenerv3.FilterChain{chain(), chain()}},
			{Name: "l2 <&>", FilterChains: []*listenerv3.FilterChain{chain()}},
		},
		Secrets: []*tlsv3.Secret{{Name: "s", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			PrivateKey: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("SECRET-KEY")}},
		}}}},
	}
}

// TestWriteConfigDumpJSONEqualsConfigDumpJSON: the streaming writer's
// output is ConfigDumpJSON's, byte for byte, redacted or not, with empty
// sections, names and strings needing escapes, and more resources than the
// writer's window of items in flight.
func TestWriteConfigDumpJSONEqualsConfigDumpJSON(t *testing.T) {
	inputs := map[string]*translate.Resources{
		"rich":                     rich(t),
		"empty":                    {},
		"html characters, 1500 RC": manyRoutes(1500),
		"keys inline and in SDS":   keyedListeners(t),
		"names holding the Any marker, empty resources": {
			Listeners: []*listenerv3.Listener{{Name: `{"@type":"type.googleapis.com/envoy.config.listener.v3.Listener"}`}, {}},
			Clusters:  []*clusterv3.Cluster{{}, {Name: `"}{"@type":"`}},
			Secrets:   []*tlsv3.Secret{{Name: `{"@type":"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"}`}},
		},
	}
	for name, r := range inputs {
		for _, show := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/show-secrets=%v", name, show), func(t *testing.T) {
				want, err := ConfigDumpJSON(r, show)
				if err != nil {
					t.Fatalf("ConfigDumpJSON: %v", err)
				}
				var got bytes.Buffer
				if err := WriteConfigDumpJSON(&got, r, show); err != nil {
					t.Fatalf("WriteConfigDumpJSON: %v", err)
				}
				if d := cmp.Diff(string(want), got.String()); d != "" {
					t.Errorf("WriteConfigDumpJSON differs from ConfigDumpJSON (-ConfigDumpJSON +WriteConfigDumpJSON):\n%s", d)
				}
			})
		}
	}
}

// TestWriteConfigDumpJSONGolden pins the writer to the golden file
// ConfigDumpJSON is pinned to.
func TestWriteConfigDumpJSONGolden(t *testing.T) {
	var got bytes.Buffer
	if err := WriteConfigDumpJSON(&got, rich(t), false); err != nil {
		t.Fatalf("WriteConfigDumpJSON: %v", err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "rich.configdump.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got.String()); d != "" {
		t.Errorf("differs from rich.configdump.golden.json (-want +got):\n%s", d)
	}
}

// TestWriteConfigDumpJSONRedacts: every copy of a key, inline in a typed
// config (three) or in an SDS secret (one), reads "[redacted]".
func TestWriteConfigDumpJSONRedacts(t *testing.T) {
	var out bytes.Buffer
	if err := WriteConfigDumpJSON(&out, keyedListeners(t), false); err != nil {
		t.Fatalf("WriteConfigDumpJSON: %v", err)
	}
	// The secret's key is bytes: "[redacted]" in base64.
	const redactedBytes, keyBytes = "W3JlZGFjdGVkXQ==", "U0VDUkVULUtFWQ=="
	if s := out.String(); strings.Contains(s, "SECRET") || strings.Contains(s, keyBytes) || !strings.Contains(s, "CERT") ||
		strings.Count(s, Redacted) != 3 || strings.Count(s, redactedBytes) != 1 {
		t.Errorf("want every copy of the key redacted and the certificate kept:\n%s", s)
	}
}

// TestWriteConfigDumpJSONErrors: a typed config that does not unmarshal
// fails the writer as it fails ConfigDumpJSON, shown secrets or not, and a
// failing writer's error is returned.
func TestWriteConfigDumpJSONErrors(t *testing.T) {
	bad := &translate.Resources{Listeners: unknownAnyListeners()}
	for _, show := range []bool{false, true} {
		if _, err := ConfigDumpJSON(bad, show); err == nil {
			t.Fatalf("ConfigDumpJSON (show-secrets=%v) accepted an Any of an unknown type", show)
		}
		if err := WriteConfigDumpJSON(&bytes.Buffer{}, bad, show); err == nil {
			t.Errorf("WriteConfigDumpJSON (show-secrets=%v) accepted an Any of an unknown type", show)
		}
	}
	errFull := errors.New("disk full")
	if err := WriteConfigDumpJSON(failingWriter{errFull}, manyRoutes(100), false); !errors.Is(err, errFull) {
		t.Errorf("WriteConfigDumpJSON to a failing writer = %v, want %v", err, errFull)
	}
}

// bigRoutes is n route configurations of about size bytes of JSON each.
func bigRoutes(n, size int) *translate.Resources {
	r := &translate.Resources{}
	for i := range n {
		var vhs []*routev3.VirtualHost
		for j := 0; j*100 < size; j++ {
			vhs = append(vhs, &routev3.VirtualHost{Name: fmt.Sprintf("vh-%d-%d", i, j), Domains: []string{fmt.Sprintf("host-%06d.%06d.example.com", i, j)}})
		}
		r.Routes = append(r.Routes, &routev3.RouteConfiguration{Name: fmt.Sprintf("rc-%d", i), VirtualHosts: vhs})
	}
	return r
}

// TestWritersLargeItems: items whose rendering passes the writers' byte
// bound on what runs ahead (20 of about 1 MB) come out as the whole-document
// renderers make them.
func TestWritersLargeItems(t *testing.T) {
	r := bigRoutes(20, 1<<20)
	want, err := ConfigDumpJSON(r, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < aheadBytes {
		t.Fatalf("the input renders to %d bytes, not past the bound of %d", len(want), aheadBytes)
	}
	var got bytes.Buffer
	if err := WriteConfigDumpJSON(&got, r, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got.Bytes()) {
		t.Error("WriteConfigDumpJSON differs from ConfigDumpJSON")
	}
	want, err = JSON(r, false)
	if err != nil {
		t.Fatal(err)
	}
	got.Reset()
	if err := WriteJSON(&got, r, false); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, got.Bytes()) {
		t.Error("WriteJSON differs from JSON")
	}
}

// TestWritersRenderErrorAmongMany: a resource that fails to render in the
// middle of many ends both writers with its error (and does not hang them).
func TestWritersRenderErrorAmongMany(t *testing.T) {
	r := manyRoutes(1500)
	r.Listeners = unknownAnyListeners()
	r.Clusters = manyClusters(1500)
	if err := WriteConfigDumpJSON(&bytes.Buffer{}, r, false); err == nil || !strings.Contains(err.Error(), "dynamic_listeners") {
		t.Errorf("WriteConfigDumpJSON = %v, want the listener's error", err)
	}
	if err := WriteJSON(&bytes.Buffer{}, r, false); err == nil || !strings.Contains(err.Error(), "listeners") {
		t.Errorf("WriteJSON = %v, want the listener's error", err)
	}
}

func manyClusters(n int) []*clusterv3.Cluster {
	out := make([]*clusterv3.Cluster, n)
	for i := range out {
		out[i] = &clusterv3.Cluster{Name: fmt.Sprintf("c-%d", i)}
	}
	return out
}
