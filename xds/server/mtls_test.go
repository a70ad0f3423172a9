package server_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/trustgate/trustgate/certs"
	"github.com/trustgate/trustgate/xds/server"
	"github.com/trustgate/trustgate/xds/server/envoytest"
	"github.com/trustgate/trustgate/xds/server/labels"
	"github.com/trustgate/trustgate/xds/xdstls"
	"github.com/trustgate/trustgate/xds/xdstls/xdstlstest"
)

// serverName is the name trustgate's test certificate is issued for.
const serverName = "trustgate.test"

// mtls is the PKI of xDS over mutual TLS: trustgate's certificate, and a
// client certificate per proxy whose CN and URI SAN name it.
type mtls struct {
	t       *testing.T
	pki     *xdstlstest.PKI
	files   xdstls.Files
	clients map[string]xdstlstest.Client
}

func newMTLS(t *testing.T, proxies ...string) *mtls {
	t.Helper()
	pki, err := xdstlstest.NewPKI(filepath.Join(t.TempDir(), "pki"), "xds test CA")
	if err != nil {
		t.Fatal(err)
	}
	files, err := pki.Server("trustgate", false, serverName, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	m := &mtls{t: t, pki: pki, files: files, clients: map[string]xdstlstest.Client{}}
	for _, p := range proxies {
		c, err := pki.Client(certs.IssueOptions{Name: p, CommonName: p, URIs: []string{spiffeID(p)}})
		if err != nil {
			t.Fatal(err)
		}
		m.clients[p] = c
	}
	return m
}

func spiffeID(proxy string) string { return "spiffe://trustgate.test/proxy/" + proxy }

// options secure a server's options: TLS from m's files and an Authorizer
// with the policy given as YAML ("": none).
func (m *mtls) options(opts server.Options, policy string) server.Options {
	m.t.Helper()
	st, err := xdstls.NewServerTLS(m.files, opts.Logger)
	if err != nil {
		m.t.Fatal(err)
	}
	file := ""
	if policy != "" {
		file = filepath.Join(m.t.TempDir(), "authz.yaml")
		if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
			m.t.Fatal(err)
		}
	}
	a, err := xdstls.NewAuthorizer(file, opts.Logger)
	if err != nil {
		m.t.Fatal(err)
	}
	opts.GRPCServerOptions = append(opts.GRPCServerOptions, grpc.Creds(credentials.NewTLS(st.Config())))
	opts.Authorizer = a
	return opts
}

// dial is the credentials of a proxy's client certificate.
func (m *mtls) dial(proxy string) grpc.DialOption {
	m.t.Helper()
	c, ok := m.clients[proxy]
	if !ok {
		m.t.Fatalf("no client certificate for %q", proxy)
	}
	d, err := c.DialOption(serverName)
	if err != nil {
		m.t.Fatal(err)
	}
	return d
}

// envoy connects a fake Envoy over mutual TLS with proxy's certificate.
func (m *mtls) envoy(h *harness, proxy string, opts envoytest.Options) *envoytest.Client {
	m.t.Helper()
	if opts.NodeID == "" {
		opts.NodeID = proxy
	}
	opts.DialOptions = []grpc.DialOption{m.dial(proxy)}
	return h.envoy(opts)
}

// adsStream is a raw ADS stream, SotW or delta, for tests that send what
// no well-behaved client would.
type adsStream struct {
	sotw  discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	delta discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
}

// openADS opens a stream on a new connection closed when the test ends.
func openADS(t *testing.T, addr string, delta bool, dial ...grpc.DialOption) adsStream {
	t.Helper()
	s, err := dialADS(t, addr, delta, dial...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dialADS is openADS returning the error of a connection that fails.
func dialADS(t *testing.T, addr string, delta bool, dial ...grpc.DialOption) (adsStream, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, dial...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(func() {
		cancel()
		if err := conn.Close(); err != nil {
			t.Error(err)
		}
	})
	return openOn(ctx, conn, delta)
}

func openOn(ctx context.Context, conn *grpc.ClientConn, delta bool) (adsStream, error) {
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	var s adsStream
	var err error
	if delta {
		s.delta, err = ads.DeltaAggregatedResources(ctx)
	} else {
		s.sotw, err = ads.StreamAggregatedResources(ctx)
	}
	return s, err
}

// refused reports how a connection that must fail its handshake ended:
// Unavailable when opening the stream, sending or receiving.
func refused(t *testing.T, addr string, dial grpc.DialOption) codes.Code {
	t.Helper()
	s, err := dialADS(t, addr, false, dial)
	if err == nil {
		err = s.send(node("gw-1", gateway), envoytest.ClusterType)
	}
	if err == nil {
		return s.ended().Code()
	}
	return status.Code(err)
}

// send sends a request for typeURL with names (SotW resource_names, delta
// subscriptions), from node (nil: none).
func (s adsStream) send(node *corev3.Node, typeURL string, names ...string) error {
	if s.delta != nil {
		return s.delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNamesSubscribe: names})
	}
	return s.sotw.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typeURL, ResourceNames: names})
}

// recv returns the next response's type URL and resource names.
func (s adsStream) recv() (string, []string, error) {
	if s.delta != nil {
		r, err := s.delta.Recv()
		if err != nil {
			return "", nil, err
		}
		var names []string
		for _, res := range r.GetResources() {
			names = append(names, res.GetName())
		}
		return r.GetTypeUrl(), names, nil
	}
	r, err := s.sotw.Recv()
	if err != nil {
		return "", nil, err
	}
	var names []string
	for _, a := range r.GetResources() {
		m, err := a.UnmarshalNew()
		if err != nil {
			return "", nil, err
		}
		names = append(names, nameOf(m))
	}
	return r.GetTypeUrl(), names, nil
}

func nameOf(m any) string {
	if n, ok := m.(interface{ GetName() string }); ok {
		return n.GetName()
	}
	if n, ok := m.(interface{ GetClusterName() string }); ok {
		return n.GetClusterName()
	}
	return ""
}

// ended receives until the stream ends and returns its status.
func (s adsStream) ended() *status.Status {
	for {
		if _, _, err := s.recv(); err != nil {
			return status.Convert(err)
		}
	}
}

func node(id string, l map[string]string) *corev3.Node {
	return &corev3.Node{Id: id, Metadata: labels.Metadata(l)}
}
