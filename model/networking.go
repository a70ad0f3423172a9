package model

// Field names and JSON tags in this file follow Istio's networking API
// reference (networking.istio.io v1/v1beta1/v1alpha3) exactly, so YAML written
// for Istio loads unchanged. Fields Istio has but trustgate does not support
// are absent on purpose: the loader reports them instead of ignoring them.

// Gateway is networking.istio.io Gateway.
type Gateway struct {
	Object `json:",inline"`
	Spec   GatewaySpec `json:"spec"`
}

// GatewaySpec is Gateway.spec.
type GatewaySpec struct {
	Selector map[string]string `json:"selector,omitempty"`
	Servers  []Server          `json:"servers"`
}

// Server is one Gateway server: a port, its hosts and TLS settings.
type Server struct {
	Port  Port               `json:"port"`
	Bind  string             `json:"bind,omitempty"`
	Hosts []string           `json:"hosts"`
	TLS   *ServerTLSSettings `json:"tls,omitempty"`
	Name  string             `json:"name,omitempty"`
}

// SectionNames are the names a policy's targetRef.sectionName picks the
// server by: its name and its port's name, each "" when unset (an empty
// sectionName stands for every server, not for an unnamed one).
func (s *Server) SectionNames() [2]string { return [2]string{s.Name, s.Port.Name} }

// Port is a Gateway server port.
type Port struct {
	Number     uint32 `json:"number"`
	Protocol   string `json:"protocol"`
	Name       string `json:"name,omitempty"`
	TargetPort uint32 `json:"targetPort,omitempty"`
}

// ServerTLSSettings is Server.tls.
type ServerTLSSettings struct {
	HTTPSRedirect         bool     `json:"httpsRedirect,omitempty"`
	Mode                  string   `json:"mode,omitempty"`
	ServerCertificate     string   `json:"serverCertificate,omitempty"`
	PrivateKey            string   `json:"privateKey,omitempty"`
	CACertificates        string   `json:"caCertificates,omitempty"`
	CACrl                 string   `json:"caCrl,omitempty"`
	CredentialName        string   `json:"credentialName,omitempty"`
	CredentialNames       []string `json:"credentialNames,omitempty"`
	CACertCredentialName  string   `json:"caCertCredentialName,omitempty"`
	SubjectAltNames       []string `json:"subjectAltNames,omitempty"`
	VerifyCertificateSpki []string `json:"verifyCertificateSpki,omitempty"`
	VerifyCertificateHash []string `json:"verifyCertificateHash,omitempty"`
	MinProtocolVersion    string   `json:"minProtocolVersion,omitempty"`
	MaxProtocolVersion    string   `json:"maxProtocolVersion,omitempty"`
	CipherSuites          []string `json:"cipherSuites,omitempty"`
}

// VirtualService is networking.istio.io VirtualService.
type VirtualService struct {
	Object `json:",inline"`
	Spec   VirtualServiceSpec `json:"spec"`
}

// VirtualServiceSpec is VirtualService.spec.
type VirtualServiceSpec struct {
	Hosts    []string    `json:"hosts,omitempty"`
	Gateways []string    `json:"gateways,omitempty"`
	HTTP     []HTTPRoute `json:"http,omitempty"`
	TLS      []TLSRoute  `json:"tls,omitempty"`
	TCP      []TCPRoute  `json:"tcp,omitempty"`
	ExportTo []string    `json:"exportTo,omitempty"`
}

// HTTPRoute is one VirtualService http entry.
type HTTPRoute struct {
	Name           string                 `json:"name,omitempty"`
	Match          []HTTPMatchRequest     `json:"match,omitempty"`
	Route          []HTTPRouteDestination `json:"route,omitempty"`
	Redirect       *HTTPRedirect          `json:"redirect,omitempty"`
	DirectResponse *HTTPDirectResponse    `json:"directResponse,omitempty"`
	Rewrite        *HTTPRewrite           `json:"rewrite,omitempty"`
	Timeout        string                 `json:"timeout,omitempty"`
	Retries        *HTTPRetry             `json:"retries,omitempty"`
	CorsPolicy     *CorsPolicy            `json:"corsPolicy,omitempty"`
	Headers        *Headers               `json:"headers,omitempty"`
}

// HTTPMatchRequest is one http match; its fields are AND-ed.
type HTTPMatchRequest struct {
	Name           string                 `json:"name,omitempty"`
	URI            *StringMatch           `json:"uri,omitempty"`
	Scheme         *StringMatch           `json:"scheme,omitempty"`
	Method         *StringMatch           `json:"method,omitempty"`
	Authority      *StringMatch           `json:"authority,omitempty"`
	Headers        map[string]StringMatch `json:"headers,omitempty"`
	Port           uint32                 `json:"port,omitempty"`
	Gateways       []string               `json:"gateways,omitempty"`
	QueryParams    map[string]StringMatch `json:"queryParams,omitempty"`
	IgnoreURICase  bool                   `json:"ignoreUriCase,omitempty"`
	WithoutHeaders map[string]StringMatch `json:"withoutHeaders,omitempty"`
}

// StringMatch is Istio's exact/prefix/regex string match (one of).
type StringMatch struct {
	Exact  string `json:"exact,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Regex  string `json:"regex,omitempty"`
}

// HTTPRouteDestination is a weighted destination of an http route.
type HTTPRouteDestination struct {
	Destination Destination `json:"destination"`
	Weight      int32       `json:"weight,omitempty"`
	Headers     *Headers    `json:"headers,omitempty"`
}

// RouteDestination is a weighted destination of a tcp or tls route.
type RouteDestination struct {
	Destination Destination `json:"destination"`
	Weight      int32       `json:"weight,omitempty"`
}

// Destination names a service host, optional subset and port.
type Destination struct {
	Host   string        `json:"host"`
	Subset string        `json:"subset,omitempty"`
	Port   *PortSelector `json:"port,omitempty"`
}

// PortSelector selects a port by number.
type PortSelector struct {
	Number uint32 `json:"number,omitempty"`
}

// Headers are request and response header operations.
type Headers struct {
	Request  *HeaderOperations `json:"request,omitempty"`
	Response *HeaderOperations `json:"response,omitempty"`
}

// HeaderOperations sets, adds and removes headers.
type HeaderOperations struct {
	Set    map[string]string `json:"set,omitempty"`
	Add    map[string]string `json:"add,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// HTTPRewrite rewrites the URI or authority before forwarding.
type HTTPRewrite struct {
	URI             string        `json:"uri,omitempty"`
	Authority       string        `json:"authority,omitempty"`
	URIRegexRewrite *RegexRewrite `json:"uriRegexRewrite,omitempty"`
}

// RegexRewrite is an RE2 match and its rewrite (\1 style groups).
type RegexRewrite struct {
	Match   string `json:"match"`
	Rewrite string `json:"rewrite"`
}

// HTTPRedirect answers with a redirect.
type HTTPRedirect struct {
	URI           string `json:"uri,omitempty"`
	PrefixRewrite string `json:"prefixRewrite,omitempty"`
	Authority     string `json:"authority,omitempty"`
	Port          uint32 `json:"port,omitempty"`
	Scheme        string `json:"scheme,omitempty"`
	RedirectCode  uint32 `json:"redirectCode,omitempty"`
}

// HTTPDirectResponse answers with a fixed response.
type HTTPDirectResponse struct {
	Status uint32    `json:"status"`
	Body   *HTTPBody `json:"body,omitempty"`
}

// HTTPBody is a direct response body (string or base64 bytes).
type HTTPBody struct {
	String string `json:"string,omitempty"`
	Bytes  string `json:"bytes,omitempty"`
}

// HTTPRetry is a retry policy.
type HTTPRetry struct {
	Attempts                 int32  `json:"attempts"`
	PerTryTimeout            string `json:"perTryTimeout,omitempty"`
	RetryOn                  string `json:"retryOn,omitempty"`
	RetryIgnorePreviousHosts *bool  `json:"retryIgnorePreviousHosts,omitempty"`
	Backoff                  string `json:"backoff,omitempty"`
}

// CorsPolicy is a route's CORS policy.
type CorsPolicy struct {
	AllowOrigins     []StringMatch `json:"allowOrigins,omitempty"`
	AllowMethods     []string      `json:"allowMethods,omitempty"`
	AllowHeaders     []string      `json:"allowHeaders,omitempty"`
	ExposeHeaders    []string      `json:"exposeHeaders,omitempty"`
	MaxAge           string        `json:"maxAge,omitempty"`
	AllowCredentials *bool         `json:"allowCredentials,omitempty"`
}

// TCPRoute is one VirtualService tcp entry.
type TCPRoute struct {
	Match []L4MatchAttributes `json:"match,omitempty"`
	Route []RouteDestination  `json:"route,omitempty"`
}

// L4MatchAttributes matches a TCP connection.
type L4MatchAttributes struct {
	Port     uint32   `json:"port,omitempty"`
	Gateways []string `json:"gateways,omitempty"`
}

// TLSRoute is one VirtualService tls entry (passthrough by SNI).
type TLSRoute struct {
	Match []TLSMatchAttributes `json:"match"`
	Route []RouteDestination   `json:"route,omitempty"`
}

// TLSMatchAttributes matches a TLS connection by SNI.
type TLSMatchAttributes struct {
	SNIHosts []string `json:"sniHosts"`
	Port     uint32   `json:"port,omitempty"`
	Gateways []string `json:"gateways,omitempty"`
}

// DestinationRule is networking.istio.io DestinationRule.
type DestinationRule struct {
	Object `json:",inline"`
	Spec   DestinationRuleSpec `json:"spec"`
}

// DestinationRuleSpec is DestinationRule.spec.
type DestinationRuleSpec struct {
	Host          string         `json:"host"`
	TrafficPolicy *TrafficPolicy `json:"trafficPolicy,omitempty"`
	Subsets       []Subset       `json:"subsets,omitempty"`
	ExportTo      []string       `json:"exportTo,omitempty"`
}

// TrafficPolicy is a DestinationRule's traffic policy (see
// trafficpolicy.go for its parts).
type TrafficPolicy struct {
	LoadBalancer      *LoadBalancerSettings   `json:"loadBalancer,omitempty"`
	ConnectionPool    *ConnectionPoolSettings `json:"connectionPool,omitempty"`
	OutlierDetection  *OutlierDetection       `json:"outlierDetection,omitempty"`
	TLS               *ClientTLSSettings      `json:"tls,omitempty"`
	PortLevelSettings []PortTrafficPolicy     `json:"portLevelSettings,omitempty"`
	RetryBudget       *RetryBudget            `json:"retryBudget,omitempty"`
}

// PortTrafficPolicy is a traffic policy for one port. It replaces the
// whole policy around it for that port (Istio's rule).
type PortTrafficPolicy struct {
	Port             PortSelector            `json:"port"`
	LoadBalancer     *LoadBalancerSettings   `json:"loadBalancer,omitempty"`
	ConnectionPool   *ConnectionPoolSettings `json:"connectionPool,omitempty"`
	OutlierDetection *OutlierDetection       `json:"outlierDetection,omitempty"`
	TLS              *ClientTLSSettings      `json:"tls,omitempty"`
}

// Subset is a named subset of a service's endpoints.
type Subset struct {
	Name          string            `json:"name"`
	Labels        map[string]string `json:"labels,omitempty"`
	TrafficPolicy *TrafficPolicy    `json:"trafficPolicy,omitempty"`
}

// ClientTLSSettings is TLS towards a backend.
type ClientTLSSettings struct {
	Mode               string   `json:"mode,omitempty"`
	ClientCertificate  string   `json:"clientCertificate,omitempty"`
	PrivateKey         string   `json:"privateKey,omitempty"`
	CACertificates     string   `json:"caCertificates,omitempty"`
	CACrl              string   `json:"caCrl,omitempty"`
	CredentialName     string   `json:"credentialName,omitempty"`
	SubjectAltNames    []string `json:"subjectAltNames,omitempty"`
	SNI                string   `json:"sni,omitempty"`
	InsecureSkipVerify *bool    `json:"insecureSkipVerify,omitempty"`
}

// ServiceEntry is networking.istio.io ServiceEntry.
type ServiceEntry struct {
	Object `json:",inline"`
	Spec   ServiceEntrySpec `json:"spec"`
}

// ServiceEntrySpec is ServiceEntry.spec.
type ServiceEntrySpec struct {
	Hosts           []string        `json:"hosts"`
	Addresses       []string        `json:"addresses,omitempty"`
	Ports           []ServicePort   `json:"ports,omitempty"`
	Location        string          `json:"location,omitempty"`
	Resolution      string          `json:"resolution,omitempty"`
	Endpoints       []WorkloadEntry `json:"endpoints,omitempty"`
	ExportTo        []string        `json:"exportTo,omitempty"`
	SubjectAltNames []string        `json:"subjectAltNames,omitempty"`
}

// ServicePort is a ServiceEntry port.
type ServicePort struct {
	Number     uint32 `json:"number"`
	Protocol   string `json:"protocol,omitempty"`
	Name       string `json:"name,omitempty"`
	TargetPort uint32 `json:"targetPort,omitempty"`
}

// WorkloadEntry is a ServiceEntry endpoint.
type WorkloadEntry struct {
	Address  string            `json:"address"`
	Ports    map[string]uint32 `json:"ports,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Network  string            `json:"network,omitempty"`
	Locality string            `json:"locality,omitempty"`
	Weight   uint32            `json:"weight,omitempty"`
}
