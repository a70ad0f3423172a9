package ir

import "time"

// Proxy is everything one proxy group (proxies with equal labels) receives.
// Every slice is sorted (listeners by port, the rest by name) so translation
// is deterministic.
type Proxy struct {
	Listeners    []*Listener
	RouteConfigs []*RouteConfig
	Clusters     []*Cluster
	Secrets      []*Secret
	// Warnings are non-fatal findings made while building (printed by check,
	// logged by serve).
	Warnings []string
}

// Listener is one port.
type Listener struct {
	Name    string // ListenerName(Port)
	Address string // bind address, "0.0.0.0" by default
	Port    uint32
	// Chains in the order Envoy should see them; at most one has no
	// ServerNames (the catch-all), and Envoy picks by SNI specificity.
	Chains []*Chain
	// TLSInspector is true when any chain matches on SNI or transport
	// protocol, or has an authorization rule on connection.sni, or access
	// logs record the SNI of a TLS port: Envoy no longer adds the
	// tls_inspector implicitly, and only it records the SNI that filter
	// chain matching, RBAC and the access log read.
	TLSInspector bool
	// AccessLog logs the connections of a TLS port that never reach a
	// chain's filters: failed handshakes, and no matching chain; nil: none.
	AccessLog *AccessLog `json:",omitempty"`
}

// AccessLog is where and how Envoy writes access logs.
type AccessLog struct {
	// Path is the file; /dev/stdout and /dev/stderr use Envoy's stream
	// loggers.
	Path     string
	Encoding AccessLogEncoding
	// Text (TEXT) or JSON (JSON) is the user's format of request entries;
	// empty keeps trustgate's. Refused connections keep trustgate's fields.
	Text string            `json:",omitempty"`
	JSON map[string]string `json:",omitempty"`
}

// AccessLogEncoding is TEXT or JSON, as Istio's MeshConfig names them.
type AccessLogEncoding string

// Access-log encodings.
const (
	AccessLogJSON AccessLogEncoding = "JSON"
	AccessLogText AccessLogEncoding = "TEXT"
)

// Chain is one filter chain: a TLS server's hosts, a passthrough SNI route, or
// the whole of a plain HTTP/TCP port. Exactly one of HTTP and TCP is set.
type Chain struct {
	Name string
	// ServerNames are the SNI names this chain matches: exact or "*.suffix".
	// Empty means any SNI, including none.
	ServerNames []string
	// DefaultServer makes the chain match any SNI, and none, although it
	// has ServerNames (which still name its hosts, for diagnosis): it is the
	// only server of its port, so clients that send no SNI or connect by IP
	// reach it, as nginx's lone server block is the default server. Its
	// route configuration still routes only its hosts (421 for others).
	DefaultServer bool `json:",omitempty"`
	// TransportProtocol is "tls" for passthrough chains (match TLS without
	// terminating it), "" otherwise.
	TransportProtocol string
	// TLS terminates TLS on this chain; nil for plaintext and passthrough.
	TLS *DownstreamTLS
	// RBAC authorizes requests (HTTP) or connections (TCP); nil means none.
	RBAC *RBAC
	// MaxConnectionDuration closes TCP connections, and drains HTTP ones,
	// after this long, and ends every HTTP stream this long after it started
	// (0: never), bounding how long a since-revoked certificate keeps
	// working: Envoy checks CRLs on new handshakes only.
	MaxConnectionDuration time.Duration
	HTTP                  *HTTPChain
	TCP                   *TCPChain
}

// HTTPChain is an HTTP connection manager that takes its routes over RDS.
type HTTPChain struct {
	StatPrefix  string
	RouteConfig string // name of a RouteConfig in Proxy.RouteConfigs
	// XFCC sets forward_client_cert_details; nil keeps Envoy's default
	// (SANITIZE: the client's header is removed).
	XFCC *XFCC
	// CORS adds the CORS filter (some route has a CorsPolicy).
	CORS bool
	// UseRemoteAddress makes Envoy overwrite X-Forwarded-For/-Proto instead
	// of trusting the client's (true at the edge).
	UseRemoteAddress bool
	// AccessLog logs every request; nil: none.
	AccessLog *AccessLog `json:",omitempty"`
}

// XFCC is the x-forwarded-client-cert policy of an HTTP chain.
type XFCC struct {
	Mode    XFCCMode
	Subject bool
	URI     bool
	DNS     bool
	Cert    bool
	Chain   bool
}

// XFCCMode mirrors Envoy's ForwardClientCertDetails.
type XFCCMode string

// XFCC modes.
const (
	XFCCSanitize          XFCCMode = "SANITIZE"
	XFCCForwardOnly       XFCCMode = "FORWARD_ONLY"
	XFCCAppendForward     XFCCMode = "APPEND_FORWARD"
	XFCCSanitizeSet       XFCCMode = "SANITIZE_SET"
	XFCCAlwaysForwardOnly XFCCMode = "ALWAYS_FORWARD_ONLY"
)

// TCPChain proxies a connection to one cluster or, weighted, several.
type TCPChain struct {
	StatPrefix   string
	Destinations []WeightedCluster
	IdleTimeout  *time.Duration // nil: Envoy's default (1h); 0: none
	// MaxConnectionDuration closes the connection this long after it was
	// accepted (a DestinationRule's tcp.maxConnectionDuration); the
	// chain's MaxConnectionDuration applies too, the shorter wins.
	MaxConnectionDuration *time.Duration
	// HashSourceIP picks a consistent-hash endpoint by the client's address.
	HashSourceIP bool
}

// TLSMode is the client-certificate mode of a terminating chain.
type TLSMode string

// TLS modes.
const (
	TLSSimple         TLSMode = "SIMPLE"
	TLSMutual         TLSMode = "MUTUAL"
	TLSOptionalMutual TLSMode = "OPTIONAL_MUTUAL"
)

// DownstreamTLS is a chain's DownstreamTlsContext. The certificate and the
// CA/CRL come over SDS so that rotating either never changes the listener
// (a listener change drains the chain's connections).
type DownstreamTLS struct {
	Mode TLSMode
	// CertSecrets name Secrets of type Cert (one per key algorithm).
	CertSecrets []string
	// CASecret names a Secret of type Validation; "" for SIMPLE.
	CASecret     string
	MinVersion   string // Envoy enum name, e.g. "TLSv1_2"; "" = Envoy default
	MaxVersion   string
	CipherSuites []string
	ECDHCurves   []string
	ALPN         []string
	// Client certificate constraints, kept static in the listener
	// (combined_validation_context's default part).
	SubjectAltNames []SANMatch
	SPKI            []string // base64 SHA-256 of the SPKI
	CertHashes      []string // hex SHA-256 of the DER certificate
	VerifyDepth     uint32   // Envoy's max_verify_depth (counts the trust anchor); 0: Envoy's default (100)
}

// SANType is the kind of a subject alternative name.
type SANType string

// SAN types.
const (
	SANDNS   SANType = "DNS"
	SANURI   SANType = "URI"
	SANEmail SANType = "EMAIL"
	SANIP    SANType = "IP_ADDRESS"
)

// SANMatch matches one SAN of a given type.
type SANMatch struct {
	Type  SANType
	Match StringMatch
}

// StringMatch matches a string; exactly one of Exact, Prefix, Suffix,
// Contains, Regex is set, or Present.
type StringMatch struct {
	Exact      string `json:",omitempty"`
	Prefix     string `json:",omitempty"`
	Suffix     string `json:",omitempty"`
	Contains   string `json:",omitempty"`
	Regex      string `json:",omitempty"` // RE2, full match
	Present    bool   `json:",omitempty"`
	IgnoreCase bool   `json:",omitempty"`
}

// RouteConfig is one RDS resource.
type RouteConfig struct {
	Name         string
	VirtualHosts []*VirtualHost // sorted by name
}

// VirtualHost is one set of domains and its routes.
type VirtualHost struct {
	Name    string
	Domains []string
	// RequireTLS redirects plain-HTTP requests to HTTPS (httpsRedirect).
	RequireTLS bool
	// Headers apply to every request of this host; the identity headers
	// derived from the peer certificate live here so that their removal and
	// their addition run at the same level (Envoy runs removes before adds
	// within one level only).
	Headers HeaderOps
	Routes  []*Route // in match order
}

// Route is one match and what to do with it: exactly one of Forward,
// Redirect and DirectResponse is set.
type Route struct {
	Name           string
	Match          RouteMatch
	Forward        *Forward
	Redirect       *Redirect
	DirectResponse *DirectResponse
	// Headers are the VirtualService's route-level header operations.
	Headers HeaderOps
	CORS    *CORS
	// BypassRBAC switches the chain's RBAC filters off for this route. Build
	// sets it only on the answers trustgate makes itself (the 421, the
	// OPTIONAL_MUTUAL rejection), which reach no backend; translate refuses
	// it on a route that forwards.
	BypassRBAC bool `json:",omitempty"`
}

// RouteMatch is an AND of its parts.
type RouteMatch struct {
	// Path: one of PathExact, PathPrefix, PathRegex; all empty means prefix "/".
	PathExact   string
	PathPrefix  string
	PathRegex   string
	IgnoreCase  bool
	Headers     []HeaderMatch // sorted by name
	QueryParams []QueryMatch  // sorted by name
	// CertPresented, when set, matches on whether the client presented a
	// certificate (used for the friendly rejection of OPTIONAL_MUTUAL).
	CertPresented *bool
}

// HeaderMatch matches one request header (":method" and ":authority" too).
type HeaderMatch struct {
	Name   string
	Match  StringMatch
	Invert bool
}

// QueryMatch matches one query parameter.
type QueryMatch struct {
	Name  string
	Match StringMatch
}

// Forward sends the request to one or more clusters.
type Forward struct {
	Destinations []WeightedCluster // one entry: a plain cluster route
	// Timeout: nil means no timeout (Istio's default; Envoy's own is 15s).
	Timeout       *time.Duration
	Retries       *Retry
	PrefixRewrite string
	RegexRewrite  *RegexRewrite
	HostRewrite   string
	// HashPolicies are what consistent-hash destinations hash.
	HashPolicies []HashPolicy
}

// WeightedCluster is a destination and its share.
type WeightedCluster struct {
	Cluster string
	Weight  uint32
	Headers HeaderOps
}

// Retry is a retry policy.
type Retry struct {
	Attempts      uint32
	PerTryTimeout *time.Duration
	RetryOn       string
	// RetriableStatusCodes are the codes "retriable-status-codes" retries.
	RetriableStatusCodes []uint32
	// PreviousHosts makes a retry avoid the endpoints already tried (Envoy's
	// previous_hosts predicate), re-picking up to HostSelectionMaxAttempts
	// times.
	PreviousHosts            bool
	HostSelectionMaxAttempts int64
	// BackoffBase is the base interval between retries (nil: Envoy's 25ms).
	BackoffBase *time.Duration
}

// RegexRewrite rewrites the path with an RE2 pattern and substitution.
type RegexRewrite struct {
	Pattern      string
	Substitution string
}

// Redirect answers with an HTTP redirect.
type Redirect struct {
	Scheme        string
	Host          string
	Port          uint32
	Path          string
	PrefixRewrite string
	Code          uint32 // 301 by default
}

// DirectResponse answers with a fixed status and body.
type DirectResponse struct {
	Status uint32
	Body   string
}

// HeaderOps are request and response header changes.
type HeaderOps struct {
	Request  HeaderOp
	Response HeaderOp
}

// HeaderOp sets (overwrites), adds (appends) and removes headers. Values are
// passed to Envoy's formatters verbatim (%DOWNSTREAM_PEER_SUBJECT% etc.).
type HeaderOp struct {
	Set    []Header // sorted by name
	Add    []Header // sorted by name
	Remove []string // sorted
}

// Header is a name and a value.
type Header struct {
	Name  string
	Value string
}

// CORS is a route's CORS policy (the CORS filter's per-route config).
type CORS struct {
	AllowOrigins     []StringMatch
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAge           *time.Duration
	AllowCredentials *bool
}

// ClusterKind is how a cluster finds its endpoints.
type ClusterKind string

// Cluster kinds.
const (
	ClusterStrictDNS ClusterKind = "STRICT_DNS"
	ClusterStatic    ClusterKind = "STATIC"
	ClusterEDS       ClusterKind = "EDS"
)

// Cluster is an upstream.
type Cluster struct {
	Name           string
	Kind           ClusterKind
	ConnectTimeout time.Duration
	// Endpoints: for STRICT_DNS/STATIC the load assignment inlined in the
	// cluster; for EDS the ClusterLoadAssignment sent over EDS.
	Endpoints []Endpoint
	TLS       *UpstreamTLS
	// HTTP2 speaks HTTP/2 to the upstream (gRPC, h2c backends).
	HTTP2 bool
	// UseDownstreamProtocol speaks to the upstream in the client's HTTP
	// version (useClientProtocol); it overrides HTTP2.
	UseDownstreamProtocol bool
	// Traffic policy (a DestinationRule's trafficPolicy): nil is Envoy's
	// default, except LB, which is always set.
	LB              *LoadBalancer
	CircuitBreakers *CircuitBreakers
	Outlier         *OutlierDetection
	HTTPOptions     *UpstreamHTTP
	TCPKeepalive    *TCPKeepalive
}

// Endpoint is one upstream address.
type Endpoint struct {
	Address string // IP or DNS name
	Port    uint32
	Weight  uint32 // 0: unset
}

// UpstreamTLS is a cluster's UpstreamTlsContext.
type UpstreamTLS struct {
	SNI string
	// CASecret names a Validation secret; "" means the backend is not
	// verified (only with InsecureSkipVerify or when no CA was given).
	CASecret string
	// CertSecret names a Cert secret presented to the backend (MUTUAL).
	CertSecret string
	// SubjectAltNames the backend's certificate must carry (DNS or URI,
	// exact); when a CA is set and none are given, the SNI is used.
	SubjectAltNames    []SANMatch
	InsecureSkipVerify bool
	MinVersion         string
	MaxVersion         string
	ALPN               []string
}

// Secret is one SDS resource: a certificate with its key, or a validation
// context. Exactly one of Cert and Validation is set.
type Secret struct {
	Name       string
	Cert       *CertKey
	Validation *Validation
	// Origin says where the secret was defined ("file.yaml:12 Secret ns/name"
	// or a directory), for messages.
	Origin string `json:"-"`
}

// CertKey is a certificate chain (leaf first) and its private key, PEM.
type CertKey struct {
	CertPEM []byte
	KeyPEM  []byte
	// IssuerPEM is the ca.crt of the same secret, if any. It is not sent to
	// Envoy; diagnosis uses it to tell a root that clients carry from a
	// missing intermediate.
	IssuerPEM []byte `json:",omitempty"`
}

// Validation is a CA bundle with optional CRLs, PEM.
type Validation struct {
	CAPEM  []byte
	CRLPEM []byte
	// OnlyVerifyLeafCRL checks the CRL of the leaf's issuer only; otherwise
	// Envoy requires a CRL for every CA in the chain.
	OnlyVerifyLeafCRL bool
}

// RBAC is the authorization of one chain, Istio's semantics: DENY rules are
// checked first; then, when any ALLOW policy applies (even one with no
// rules), a request must match some ALLOW rule.
type RBAC struct {
	Deny     []AuthzRule
	Allow    []AuthzRule
	HasAllow bool
}

// AuthzRule is one rule: it matches when some To and some From and every When
// match (empty To or From match everything).
type AuthzRule struct {
	Name string // Istio's "ns[N]-policy[P]-rule[i]"
	To   []Operation
	From []Source
	When []Condition
}

// Operation is an AND of its non-empty fields; each field is an OR of values.
type Operation struct {
	Hosts, NotHosts     []StringMatch
	Paths, NotPaths     []StringMatch
	Methods, NotMethods []string
	Ports, NotPorts     []uint32
}

// Source is an AND of its non-empty fields; each field is an OR of values.
type Source struct {
	Principals, NotPrincipals         []StringMatch
	IPBlocks, NotIPBlocks             []string // CIDR or IP (direct peer)
	RemoteIPBlocks, NotRemoteIPBlocks []string // CIDR or IP (after XFF)
}

// ConditionKey is what a When condition tests.
type ConditionKey string

// Condition keys: Istio's, and certificate fields (ours).
const (
	CondRequestHeader   ConditionKey = "request.headers"
	CondSourcePrincipal ConditionKey = "source.principal"
	CondSourceIP        ConditionKey = "source.ip"
	CondRemoteIP        ConditionKey = "remote.ip"
	CondSNI             ConditionKey = "connection.sni"
	CondDestinationPort ConditionKey = "destination.port"
	// Certificate fields, evaluated on the verified peer certificate.
	CondCertSubject     ConditionKey = "cert.subject"
	CondCertCN          ConditionKey = "cert.cn"
	CondCertIssuer      ConditionKey = "cert.issuer"
	CondCertFingerprint ConditionKey = "cert.fingerprint"
	CondCertDNSSAN      ConditionKey = "cert.san.dns"
	CondCertURISAN      ConditionKey = "cert.san.uri"
	CondCertEmailSAN    ConditionKey = "cert.san.email"
	CondCertIPSAN       ConditionKey = "cert.san.ip"
	// CondCertPresented holds when the client presented a certificate; its
	// only value is a presence match. The handshake verified any certificate
	// a chain with a client CA accepted (Envoy refuses an invalid one even
	// with OPTIONAL_MUTUAL), and "presented" stays true on resumed TLS
	// sessions, where Envoy reports "validated" as false.
	CondCertPresented ConditionKey = "cert.presented"
)

// Condition matches when the key's value matches some of Values and none of
// NotValues.
type Condition struct {
	Key       ConditionKey
	Header    string // for CondRequestHeader
	Values    []StringMatch
	NotValues []StringMatch
}

// PeerField is a certificate field that the translator copies into filter
// state (set_filter_state) ahead of RBAC when a rule tests it: RBAC then
// matches the certificate itself, which no request header can forge.
type PeerField string

// Peer fields and the Envoy formatter each is read with.
const (
	PeerSubject     PeerField = "%DOWNSTREAM_PEER_SUBJECT%"
	PeerIssuer      PeerField = "%DOWNSTREAM_PEER_ISSUER%"
	PeerFingerprint PeerField = "%DOWNSTREAM_PEER_FINGERPRINT_256%"
)

// PeerStateKey is the filter-state key holding a PeerField.
func PeerStateKey(f PeerField) string {
	switch f {
	case PeerSubject:
		return "trustgate.peer.subject"
	case PeerIssuer:
		return "trustgate.peer.issuer"
	case PeerFingerprint:
		return "trustgate.peer.fingerprint_256"
	}
	return ""
}
