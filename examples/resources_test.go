package examples_test

import (
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/trustgate/trustgate/xds/translate"
)

// Helpers that dig the facts the scenario checks assert out of Envoy
// resources. Each fails the test, naming what it looked for, rather than
// returning nil.

// listenerOn returns the listener bound to port.
func listenerOn(t *testing.T, res *translate.Resources, port uint32) *listenerv3.Listener {
	t.Helper()
	var ports []uint32
	for _, l := range res.Listeners {
		p := l.GetAddress().GetSocketAddress().GetPortValue()
		if p == port {
			return l
		}
		ports = append(ports, p)
	}
	t.Fatalf("no listener on port %d; ports: %v", port, ports)
	return nil
}

// onlyChain returns the listener's single filter chain.
func onlyChain(t *testing.T, l *listenerv3.Listener) *listenerv3.FilterChain {
	t.Helper()
	if n := len(l.GetFilterChains()); n != 1 {
		t.Fatalf("listener %s: want 1 filter chain, got %d", l.GetName(), n)
	}
	return l.GetFilterChains()[0]
}

// chainFor returns the filter chain whose server_names are exactly names,
// or the listener's only chain when it matches no server name: the chain of
// a port's only TLS server, its default server, which serves those names
// and clients without SNI alike.
func chainFor(t *testing.T, l *listenerv3.Listener, names ...string) *listenerv3.FilterChain {
	t.Helper()
	for _, fc := range l.GetFilterChains() {
		if slices.Equal(fc.GetFilterChainMatch().GetServerNames(), names) {
			return fc
		}
	}
	if fcs := l.GetFilterChains(); len(fcs) == 1 && len(fcs[0].GetFilterChainMatch().GetServerNames()) == 0 {
		return fcs[0]
	}
	t.Fatalf("listener %s: no filter chain for server_names %v", l.GetName(), names)
	return nil
}

// unpack unmarshals an Any into a new message of type T.
func unpack[T proto.Message](t *testing.T, a *anypb.Any) T {
	t.Helper()
	m, err := a.UnmarshalNew()
	if err != nil {
		t.Fatalf("unpack %s: %v", a.GetTypeUrl(), err)
	}
	out, ok := m.(T)
	if !ok {
		t.Fatalf("unpack: got %T", m)
	}
	return out
}

// downstreamTLS returns a filter chain's DownstreamTlsContext.
func downstreamTLS(t *testing.T, fc *listenerv3.FilterChain) *tlsv3.DownstreamTlsContext {
	t.Helper()
	ts := fc.GetTransportSocket()
	if ts == nil {
		t.Fatalf("filter chain %s terminates no TLS", fc.GetName())
	}
	return unpack[*tlsv3.DownstreamTlsContext](t, ts.GetTypedConfig())
}

// clientValidation returns the static part and the SDS secret name of a
// TLS context's client-certificate validation.
func clientValidation(t *testing.T, c *tlsv3.CommonTlsContext) (*tlsv3.CertificateValidationContext, string) {
	t.Helper()
	cv := c.GetCombinedValidationContext()
	if cv == nil {
		t.Fatalf("no combined_validation_context in %v", c)
	}
	return cv.GetDefaultValidationContext(), cv.GetValidationContextSdsSecretConfig().GetName()
}

// networkFilter returns the typed config of a chain's network filter.
func networkFilter[T proto.Message](t *testing.T, fc *listenerv3.FilterChain, name string) T {
	t.Helper()
	for _, f := range fc.GetFilters() {
		if f.GetName() == name {
			return unpack[T](t, f.GetTypedConfig())
		}
	}
	t.Fatalf("filter chain %s has no network filter %s", fc.GetName(), name)
	var zero T
	return zero
}

// hcm returns a chain's HTTP connection manager.
func hcm(t *testing.T, fc *listenerv3.FilterChain) *hcmv3.HttpConnectionManager {
	t.Helper()
	return networkFilter[*hcmv3.HttpConnectionManager](t, fc, wellknown.HTTPConnectionManager)
}

// tcpProxy returns a chain's tcp_proxy.
func tcpProxy(t *testing.T, fc *listenerv3.FilterChain) *tcpv3.TcpProxy {
	t.Helper()
	return networkFilter[*tcpv3.TcpProxy](t, fc, wellknown.TCPProxy)
}

// rbacFilters returns the configs of an HCM's RBAC filters, in order.
func rbacFilters(t *testing.T, m *hcmv3.HttpConnectionManager) []*rbachttpv3.RBAC {
	t.Helper()
	var out []*rbachttpv3.RBAC
	for _, f := range m.GetHttpFilters() {
		if f.GetName() == wellknown.HTTPRoleBasedAccessControl {
			out = append(out, unpack[*rbachttpv3.RBAC](t, f.GetTypedConfig()))
		}
	}
	return out
}

// toJSON renders a message as Envoy would print it in a config dump.
func toJSON(t *testing.T, m proto.Message) string {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatalf("protojson: %v", err)
	}
	return string(b)
}

// routeConfigOf returns the route configuration an HCM takes over RDS.
func routeConfigOf(t *testing.T, res *translate.Resources, m *hcmv3.HttpConnectionManager) *routev3.RouteConfiguration {
	t.Helper()
	name := m.GetRds().GetRouteConfigName()
	for _, rc := range res.Routes {
		if rc.GetName() == name {
			return rc
		}
	}
	t.Fatalf("no route configuration %q", name)
	return nil
}

// virtualHost returns the virtual host of a route configuration that lists
// domain.
func virtualHost(t *testing.T, rc *routev3.RouteConfiguration, domain string) *routev3.VirtualHost {
	t.Helper()
	var all [][]string
	for _, vh := range rc.GetVirtualHosts() {
		if slices.Contains(vh.GetDomains(), domain) {
			return vh
		}
		all = append(all, vh.GetDomains())
	}
	t.Fatalf("route config %s: no virtual host for %q; domains: %v", rc.GetName(), domain, all)
	return nil
}

// cluster returns the cluster of this name.
func cluster(t *testing.T, res *translate.Resources, name string) *clusterv3.Cluster {
	t.Helper()
	return byName(t, "cluster", res.Clusters, name)
}

// secret returns the SDS secret of this name.
func secret(t *testing.T, res *translate.Resources, name string) *tlsv3.Secret {
	t.Helper()
	return byName(t, "secret", res.Secrets, name)
}

// byName returns the resource of this name, or fails listing the names there are.
func byName[R interface{ GetName() string }](t *testing.T, kind string, list []R, name string) R {
	t.Helper()
	var names []string
	for _, r := range list {
		if r.GetName() == name {
			return r
		}
		names = append(names, r.GetName())
	}
	t.Fatalf("no %s %q; there are: %v", kind, name, names)
	var zero R
	return zero
}

// validationSecret returns the validation context of the SDS secret name.
func validationSecret(t *testing.T, res *translate.Resources, name string) *tlsv3.CertificateValidationContext {
	t.Helper()
	vc := secret(t, res, name).GetValidationContext()
	if vc == nil {
		t.Fatalf("secret %q is not a validation context", name)
	}
	return vc
}

// headerValues maps header names to values of a list of header options.
func headerValues(opts []*corev3.HeaderValueOption) map[string]string {
	out := map[string]string{}
	for _, o := range opts {
		out[o.GetHeader().GetKey()] = o.GetHeader().GetValue()
	}
	return out
}

// pemBlocks counts the PEM blocks of a type in b.
func pemBlocks(b []byte, typ string) int {
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return n
		}
		if blk.Type == typ {
			n++
		}
	}
}

// revokedSerials lists every serial revoked by the CRLs in crlPEM.
func revokedSerials(t *testing.T, crlPEM []byte) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	crls := 0
	for rest := crlPEM; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		crl, err := x509.ParseRevocationList(blk.Bytes)
		if err != nil {
			t.Fatalf("CRL: %v", err)
		}
		crls++
		for _, e := range crl.RevokedCertificateEntries {
			out[e.SerialNumber.String()] = true
		}
	}
	if crls == 0 {
		t.Fatal("no CRL in the validation context")
	}
	return out
}

// leafSerial is the serial of the first certificate of a secret directory's
// tls.crt.
func leafSerial(t *testing.T, certsDir, name string) *big.Int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(certsDir, name, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s/tls.crt: no PEM", name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber
}
