package refs

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
)

// TestMayReference: only types that can hold neither an SdsSecretConfig, an
// Rds nor an Any are skipped.
func TestMayReference(t *testing.T) {
	tests := map[string]struct {
		m    proto.Message
		want bool
	}{
		"address":            {&corev3.Address{}, false},
		"filter chain match": {&listenerv3.FilterChainMatch{}, false},
		"listener":           {&listenerv3.Listener{}, true},
		"cluster":            {&clusterv3.Cluster{}, true},
		"SDS config":         {&tlsv3.SdsSecretConfig{}, true},
		"common TLS context": {&tlsv3.CommonTlsContext{}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := mayReference(tc.m.ProtoReflect().Descriptor()); got != tc.want {
				t.Errorf("mayReference = %v, want %v", got, tc.want)
			}
		})
	}
}
