package dump

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

func str(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}

func byts(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte(s)}}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRedactBySensitiveOption checks that what is redacted, and how, follows
// the protos' udpa.annotations.sensitive option the way Envoy's
// MessageUtil::redact does: each case is a field Envoy's API marks
// sensitive, of a different shape.
func TestRedactBySensitiveOption(t *testing.T) {
	tests := map[string]struct {
		in, want func(t *testing.T) proto.Message
	}{
		"a sensitive message: its strings and bytes, certificate kept": {
			in: func(*testing.T) proto.Message {
				return &tlsv3.TlsCertificate{CertificateChain: byts("CERT"), PrivateKey: byts("KEY"), Password: str("PASS")}
			},
			want: func(*testing.T) proto.Message {
				return &tlsv3.TlsCertificate{CertificateChain: byts("CERT"), PrivateKey: byts(Redacted), Password: str(Redacted)}
			},
		},
		"a sensitive list of messages: every element": {
			in: func(*testing.T) proto.Message {
				return &tlsv3.TlsSessionTicketKeys{Keys: []*corev3.DataSource{byts("k1"), str("k2")}}
			},
			want: func(*testing.T) proto.Message {
				return &tlsv3.TlsSessionTicketKeys{Keys: []*corev3.DataSource{byts(Redacted), str(Redacted)}}
			},
		},
		"a sensitive map: values, not keys": {
			in: func(*testing.T) proto.Message {
				return &tlsv3.GenericSecret{Secrets: map[string]*corev3.DataSource{"a": str("s1"), "b": byts("s2")}}
			},
			want: func(*testing.T) proto.Message {
				return &tlsv3.GenericSecret{Secrets: map[string]*corev3.DataSource{"a": str(Redacted), "b": byts(Redacted)}}
			},
		},
		"a sensitive string": {
			in: func(*testing.T) proto.Message {
				return &tracev3.ClientConfig{ServiceName: "svc", BackendTokenSpecifier: &tracev3.ClientConfig_BackendToken{BackendToken: "token"}}
			},
			want: func(*testing.T) proto.Message {
				return &tracev3.ClientConfig{ServiceName: "svc", BackendTokenSpecifier: &tracev3.ClientConfig_BackendToken{BackendToken: Redacted}}
			},
		},
		"a sensitive typed config: strings redacted, numbers cleared": {
			in: func(t *testing.T) proto.Message {
				return &tlsv3.PrivateKeyProvider{ProviderName: "p", ConfigType: &tlsv3.PrivateKeyProvider_TypedConfig{
					TypedConfig: mustAny(t, &corev3.RuntimeUInt32{DefaultValue: 7, RuntimeKey: "key"}),
				}}
			},
			want: func(t *testing.T) proto.Message {
				return &tlsv3.PrivateKeyProvider{ProviderName: "p", ConfigType: &tlsv3.PrivateKeyProvider_TypedConfig{
					TypedConfig: mustAny(t, &corev3.RuntimeUInt32{RuntimeKey: Redacted}),
				}}
			},
		},
		"inside a typed config": {
			in: func(t *testing.T) proto.Message {
				return &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t,
					&tlsv3.UpstreamTlsContext{Sni: "sni", CommonTlsContext: &tlsv3.CommonTlsContext{
						TlsCertificates: []*tlsv3.TlsCertificate{{PrivateKey: str("KEY")}},
					}})}}
			},
			want: func(t *testing.T) proto.Message {
				return &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t,
					&tlsv3.UpstreamTlsContext{Sni: "sni", CommonTlsContext: &tlsv3.CommonTlsContext{
						TlsCertificates: []*tlsv3.TlsCertificate{{PrivateKey: str(Redacted)}},
					}})}}
			},
		},
		"nothing sensitive: unchanged": {
			in:   func(*testing.T) proto.Message { return &corev3.HeaderValue{Key: "k", Value: "v"} },
			want: func(*testing.T) proto.Message { return &corev3.HeaderValue{Key: "k", Value: "v"} },
		},
		"a number outside any sensitive field: unchanged": {
			in:   func(*testing.T) proto.Message { return &corev3.RuntimeUInt32{DefaultValue: 7, RuntimeKey: "key"} },
			want: func(*testing.T) proto.Message { return &corev3.RuntimeUInt32{DefaultValue: 7, RuntimeKey: "key"} },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.in(t)
			before := proto.Clone(in)
			got, err := redact(in)
			if err != nil {
				t.Fatalf("redact: %v", err)
			}
			if d := cmp.Diff(tc.want(t), got, protocmp.Transform()); d != "" {
				t.Errorf("redact (-want +got):\n%s", d)
			}
			if d := cmp.Diff(before, in, protocmp.Transform()); d != "" {
				t.Errorf("redact modified its input (-before +after):\n%s", d)
			}
		})
	}
}

// TestRedactUnknownType refuses a typed config it cannot look inside rather
// than print it unredacted.
func TestRedactUnknownType(t *testing.T) {
	a := &anypb.Any{TypeUrl: "type.googleapis.com/unknown.Secret", Value: []byte{1, 2}}
	if _, err := redact(&corev3.TypedExtensionConfig{Name: "x", TypedConfig: a}); err == nil {
		t.Error("redact accepted an Any of an unknown type")
	}
}
