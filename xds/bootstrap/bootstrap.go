package bootstrap

import (
	"errors"
	"fmt"
	"github.com/trustgate/trustgate/internal/re2size"
	"net"
	"net/netip"
	"strconv"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/trustgate/trustgate/xds/server/labels"
)

// XDSCluster is the name of the static cluster that reaches trustgate.
const XDSCluster = "xds_cluster"

// Options describe the Envoy to bootstrap.
type Options struct {
	NodeID  string // required
	Cluster string // node cluster; "" leaves it unset
	// Labels go into the node metadata; they pick the proxy group.
	Labels map[string]string
	// XDSAddr is trustgate's ADS address, host:port; a host that is an IP
	// gives a STATIC cluster, a name a STRICT_DNS one.
	XDSAddr string
	// Delta asks for incremental ADS (DELTA_GRPC) instead of SotW (GRPC).
	Delta bool
	// AdminPort is the admin listener's port on 127.0.0.1.
	AdminPort uint32
	// TLS, when set, connects to trustgate over TLS.
	TLS *TLSFiles
	// MaxHeapBytes is the heap the overload manager protects (0:
	// DefaultMaxHeapBytes); set it to the proxy's memory limit.
	MaxHeapBytes uint64
	// MaxConnections caps open downstream connections across all listeners
	// (0: DefaultMaxConnections).
	MaxConnections uint64
}

// TLSFiles are paths, as Envoy will see them, for xDS over TLS.
type TLSFiles struct {
	CA   string // verifies trustgate's certificate; required
	Cert string // client certificate and key, for mutual TLS; both or neither
	Key  string
}

// ErrOptions is returned (wrapped) for invalid options.
var ErrOptions = errors.New("bootstrap options")

// Generate returns the bootstrap, validated against Envoy's proto rules.
func Generate(o Options) (*bootstrapv3.Bootstrap, error) {
	host, port, err := splitAddr(o.XDSAddr)
	if err != nil {
		return nil, err
	}
	if o.NodeID == "" {
		return nil, fmt.Errorf("%w: a node ID is required", ErrOptions)
	}
	if _, ok := o.Labels[""]; ok {
		return nil, fmt.Errorf("%w: a label has an empty key", ErrOptions)
	}
	if o.AdminPort > 65535 {
		return nil, fmt.Errorf("%w: admin port %d out of range", ErrOptions, o.AdminPort)
	}
	xds, err := xdsCluster(host, port, o.TLS)
	if err != nil {
		return nil, err
	}
	overload, err := overloadManager(o)
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: o.NodeID, Cluster: o.Cluster, Metadata: labels.Metadata(o.Labels)},
		Admin: &bootstrapv3.Admin{
			Address: socketAddress("127.0.0.1", o.AdminPort),
		},
		DynamicResources: dynamicResources(o.Delta),
		StaticResources:  &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{xds}},
		LayeredRuntime:   runtime(),
		OverloadManager:  overload,
	}
	if err := b.ValidateAll(); err != nil {
		return nil, err
	}
	return b, nil
}

// RE2ProgramSizeLimit is the RE2 program size above which Envoy rejects a
// regex (runtime key re2.max_program_size.error_level; Envoy's default is
// 100). The regexes trustgate generates for certificate-field rules (an
// alternation of escaped subjects or SANs) can approach 100, and a regex
// over the limit makes Envoy reject the whole listener or route update.
const RE2ProgramSizeLimit = re2size.Limit

// runtime is a single static layer raising the RE2 program size limit. A
// static layer cannot be changed at run time; trustgate needs no other.
func runtime() *bootstrapv3.LayeredRuntime {
	return &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{{
		Name: "static_layer",
		LayerSpecifier: &bootstrapv3.RuntimeLayer_StaticLayer{StaticLayer: &structpb.Struct{Fields: map[string]*structpb.Value{
			"re2.max_program_size.error_level": structpb.NewNumberValue(RE2ProgramSizeLimit),
		}}},
	}}}
}

func splitAddr(addr string) (string, uint32, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%w: xDS address %q: %w", ErrOptions, addr, err)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 || host == "" {
		return "", 0, fmt.Errorf("%w: xDS address %q: want host:port with a port from 1 to 65535", ErrOptions, addr)
	}
	return host, uint32(port), nil
}

// dynamicResources takes listeners and clusters (and through them routes,
// endpoints and secrets) from one ADS stream.
func dynamicResources(delta bool) *bootstrapv3.Bootstrap_DynamicResources {
	apiType := corev3.ApiConfigSource_GRPC
	if delta {
		apiType = corev3.ApiConfigSource_DELTA_GRPC
	}
	ads := &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
	return &bootstrapv3.Bootstrap_DynamicResources{
		AdsConfig: &corev3.ApiConfigSource{
			ApiType:             apiType,
			TransportApiVersion: corev3.ApiVersion_V3,
			// The node (with its labels) is sent once per stream; trustgate
			// reads it from the first request.
			SetNodeOnFirstMessageOnly: true,
			GrpcServices: []*corev3.GrpcService{{
				TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSCluster}},
			}},
		},
		LdsConfig: ads,
		CdsConfig: ads,
	}
}

func xdsCluster(host string, port uint32, files *TLSFiles) (*clusterv3.Cluster, error) {
	kind := clusterv3.Cluster_STRICT_DNS
	if _, err := netip.ParseAddr(host); err == nil {
		kind = clusterv3.Cluster_STATIC
	}
	h2, err := toAny(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						// Notice a dead control plane connection. trustgate
						// rejects pings more often than every 15s.
						ConnectionKeepalive: &corev3.KeepaliveSettings{
							Interval: durationpb.New(30 * time.Second),
							Timeout:  durationpb.New(5 * time.Second),
						},
					},
				},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	c := &clusterv3.Cluster{
		Name:                 XDSCluster,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: kind},
		ConnectTimeout:       durationpb.New(5 * time.Second),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: XDSCluster,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port)}},
			}}}},
		},
		// gRPC needs HTTP/2; the typed options replace the deprecated
		// Cluster.http2_protocol_options.
		TypedExtensionProtocolOptions: map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": h2},
	}
	if files != nil {
		ts, err := upstreamTLS(host, files)
		if err != nil {
			return nil, err
		}
		c.TransportSocket = ts
	}
	return c, nil
}

// upstreamTLS verifies trustgate's certificate against the CA and its host
// name (Envoy checks nothing without trusted_ca, and only the SAN matcher
// ties the certificate to the address), and presents the client
// certificate when given.
func upstreamTLS(host string, f *TLSFiles) (*corev3.TransportSocket, error) {
	if f.CA == "" {
		return nil, fmt.Errorf("%w: xDS over TLS needs a CA file to verify trustgate", ErrOptions)
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, fmt.Errorf("%w: the xDS client certificate and key go together", ErrOptions)
	}
	sanType, sni := tlsv3.SubjectAltNameMatcher_DNS, host
	if _, err := netip.ParseAddr(host); err == nil {
		sanType, sni = tlsv3.SubjectAltNameMatcher_IP_ADDRESS, "" // SNI cannot carry an IP address
	}
	common := &tlsv3.CommonTlsContext{
		TlsParams: &tlsv3.TlsParameters{
			TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
			TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, // a client's default maximum is 1.2
		},
		ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: file(f.CA),
			MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
				SanType: sanType,
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: host}},
			}},
		}},
		// gRPC servers refuse TLS connections that do not negotiate h2.
		AlpnProtocols: []string{"h2"},
	}
	if f.Cert != "" {
		common.TlsCertificates = []*tlsv3.TlsCertificate{{CertificateChain: file(f.Cert), PrivateKey: file(f.Key)}}
	}
	ctx, err := toAny(&tlsv3.UpstreamTlsContext{CommonTlsContext: common, Sni: sni})
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: ctx}}, nil
}

func file(path string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// validatable is a proto message with Envoy's generated validation.
type validatable interface {
	proto.Message
	ValidateAll() error
}

// toAny validates m (Bootstrap.ValidateAll does not look inside an Any) and
// packs it.
func toAny(m validatable) (*anypb.Any, error) {
	if err := m.ValidateAll(); err != nil {
		return nil, err
	}
	return anypb.New(m)
}
