package envoymodel

import (
	"crypto/x509"
	"net/netip"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// Resources are the Envoy resources of one proxy, as an xDS server sends
// them. Endpoints are not needed: the model stops at the cluster choice.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Secrets   []*tlsv3.Secret
}

// Connection is what a client brings to the listener.
type Connection struct {
	// Port is the destination port.
	Port uint32
	// DestinationIP is the local address the client connected to; the zero
	// value means "any address" and matches a listener bound to 0.0.0.0.
	DestinationIP netip.Addr
	// SourceIP is the client's address (also the remote address: the
	// model assumes use_remote_address with no trusted hops).
	SourceIP netip.Addr
	// SourcePort is the client's port (0 when it does not matter).
	SourcePort uint16
	// TLS says whether the client starts with a TLS ClientHello.
	TLS bool
	// SNI is the server name in the ClientHello ("" for none).
	SNI string
	// ALPN are the protocols the client offers (nil: none).
	ALPN []string
	// ClientChain is the certificate chain the client sends, leaf first
	// (nil: no certificate).
	ClientChain []*x509.Certificate
	// Resumed asks for a resumed TLS session: one the client established
	// earlier with a full handshake on the same filter chain.
	Resumed bool
}

// Header is one request header as the client sends it.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Request is one HTTP request on the connection.
type Request struct {
	Method    string
	Authority string // the Host header (HTTP/1) or :authority (HTTP/2)
	Path      string // with its query, as sent
	Headers   []Header
}

// Verdict is what happened to the connection and request.
type Verdict string

// The verdicts, in the order the request path can end.
const (
	NoListener       Verdict = "no-listener"
	ConnectionClosed Verdict = "connection-closed"
	HandshakeFailed  Verdict = "handshake-failed"
	Denied           Verdict = "denied"
	DirectResponse   Verdict = "direct-response"
	Routed           Verdict = "routed"
)

// CertVerdict is the fate of the client certificate.
type CertVerdict string

// Client certificate outcomes.
const (
	CertNone      CertVerdict = "none"
	CertValidated CertVerdict = "validated"
	CertRejected  CertVerdict = "rejected"
)

// Trace is the model's account of one connection and request.
type Trace struct {
	Verdict           Verdict           `json:"verdict"`
	Status            int               `json:"status"`
	Reason            string            `json:"reason"`
	Listener          string            `json:"listener"`
	FilterChain       string            `json:"filterChain"`
	ClientCertificate CertVerdict       `json:"clientCertificate"`
	RouteConfig       string            `json:"routeConfig,omitempty"`
	VirtualHost       string            `json:"virtualHost,omitempty"`
	Route             string            `json:"route"`
	Cluster           string            `json:"cluster"`
	UpstreamHeaders   map[string]string `json:"upstreamHeaders"`
	Policies          []PolicyDecision  `json:"policies"`
	// Clusters lists every cluster the route may pick, with its weight and
	// the headers that cluster would receive.
	Clusters []ClusterChoice `json:"clusters,omitempty"`
	// Body is the body of a direct response; Location that of a redirect.
	Body     string `json:"body,omitempty"`
	Location string `json:"location,omitempty"`
	// Peer is the client certificate as Envoy's connection reports it.
	Peer Peer `json:"peer"`
	// Steps are what Envoy did, in order.
	Steps []Step `json:"steps"`
	// FiltersRan says the request reached the HTTP filters (the HCM did
	// not answer it first).
	FiltersRan bool `json:"-"`
}

// Peer is the TLS peer state Envoy's filters see.
type Peer struct {
	TLS       bool   `json:"tls"`
	SNI       string `json:"sni,omitempty"`
	Presented bool   `json:"presented"`
	Validated bool   `json:"validated"`
	Resumed   bool   `json:"resumed"`
	Subject   string `json:"subject,omitempty"`
}

// PolicyDecision is one RBAC filter's decision.
type PolicyDecision struct {
	// Filter is the HTTP or network filter's name and its position.
	Filter string `json:"filter"`
	// Action is the rule set's action (ALLOW, DENY or LOG).
	Action string `json:"action"`
	// Policy is the matched policy ("" when none matched).
	Policy string `json:"policy"`
	// Allowed is the filter's outcome.
	Allowed bool `json:"allowed"`
	// Shadow marks a shadow-rules evaluation, which never blocks.
	Shadow bool `json:"shadow,omitempty"`
	// PerRoute says the rules came from the route's RBACPerRoute.
	PerRoute bool `json:"perRoute,omitempty"`
}

// ClusterChoice is one cluster the router may send the request to.
type ClusterChoice struct {
	Name            string            `json:"name"`
	Weight          uint32            `json:"weight"`
	UpstreamHeaders map[string]string `json:"upstreamHeaders,omitempty"`
	UpstreamTLS     *UpstreamTLS      `json:"upstreamTLS,omitempty"`
	Missing         bool              `json:"missing,omitempty"`
}

// UpstreamTLS is how Envoy would connect to a cluster over TLS.
type UpstreamTLS struct {
	SNI string `json:"sni,omitempty"`
	// Verified says whether the backend's certificate is checked at all
	// (a trusted CA is configured).
	Verified bool `json:"verified"`
	// SANs are the SAN matchers the backend's certificate must satisfy.
	SANs []string `json:"sans,omitempty"`
	// ClientCertificate is the SDS secret of the certificate presented.
	ClientCertificate string `json:"clientCertificate,omitempty"`
}

// Step is one thing Envoy did.
type Step struct {
	Stage  string `json:"stage"`
	Text   string `json:"text"`
	Source string `json:"source,omitempty"`
}
