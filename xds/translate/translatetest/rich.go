package translatetest

import (
	"time"

	"github.com/trustgate/trustgate/xds/ir"
)

// Shortened PEM blocks: translate copies PEM bytes without parsing them.
const (
	CertPEM = "-----BEGIN CERTIFICATE-----\nMIIBfake-server\n-----END CERTIFICATE-----\n"
	KeyPEM  = "-----BEGIN PRIVATE KEY-----\nMIGHfake-key\n-----END PRIVATE KEY-----\n"
	CAPEM   = "-----BEGIN CERTIFICATE-----\nMIIBfake-ca\n-----END CERTIFICATE-----\n"
	CRLPEM  = "-----BEGIN X509 CRL-----\nMIIBfake-crl\n-----END X509 CRL-----\n"
)

// Names used by RichProxy, from ir/names.go.
var (
	GatewayCert   = ir.CertSecretName("edge", "gw-cert")
	GatewayCA     = ir.CASecretName("edge", "gw-cert")
	BackendCA     = ir.CASecretName("apps", "backend-ca")
	BackendCert   = ir.CertSecretName("apps", "client-cert")
	AppCluster    = ir.ClusterName("app.apps.svc", 8443, "")
	CanaryCluster = ir.ClusterName("app.apps.svc", 8443, "canary")
	GRPCCluster   = ir.ClusterName("grpc.apps.svc", 9000, "")
	DBCluster     = ir.ClusterName("10.0.0.5", 5432, "")
	DBReplica     = ir.ClusterName("10.0.0.6", 5432, "")
	LegacyCluster = ir.ClusterName("legacy.internal", 443, "")
	HTTPSRoutes   = ir.RouteConfigName(443, "edge.gw.0")
	HTTPSRoutesB  = ir.RouteConfigName(443, "edge.gw.1")
	HTTPRoutes    = ir.HTTPRouteConfigName(80)
)

// RichProxy returns an IR that sets every feature the translator supports:
// mutual and optional-mutual HTTPS chains with RBAC on every kind of
// attribute (certificate fields included), CORS and XFCC, a TLS passthrough
// chain, a terminating TCP chain with network RBAC, a plain-HTTP port with
// redirects, clusters of every kind with upstream (m)TLS and HTTP/2, and
// certificate and validation secrets.
func RichProxy() *ir.Proxy {
	return &ir.Proxy{
		Listeners:    []*ir.Listener{httpListener(), httpsListener(), tcpListener()},
		RouteConfigs: []*ir.RouteConfig{plainRoutes(), httpsRoutesA(), httpsRoutesB()},
		Clusters:     clusters(),
		Secrets:      secrets(),
	}
}

// Access logs of RichProxy: trustgate's default JSON to stdout on the
// HTTPS port, and a text format of the user's to a file on the plain one.
var (
	StdoutLog   = &ir.AccessLog{Path: "/dev/stdout", Encoding: ir.AccessLogJSON}
	TextFileLog = &ir.AccessLog{Path: "/var/log/envoy/access.log", Encoding: ir.AccessLogText, Text: "%START_TIME% %RESPONSE_CODE% %REQ(:AUTHORITY)%"}
)

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

func httpListener() *ir.Listener {
	return &ir.Listener{
		Name: ir.ListenerName(80), Address: "0.0.0.0", Port: 80,
		Chains: []*ir.Chain{{
			Name: ir.ChainName(80, "http"),
			HTTP: &ir.HTTPChain{StatPrefix: ir.StatPrefix(HTTPRoutes), RouteConfig: HTTPRoutes, UseRemoteAddress: true, AccessLog: TextFileLog},
		}},
	}
}

func httpsListener() *ir.Listener {
	return &ir.Listener{
		Name: ir.ListenerName(443), Address: "0.0.0.0", Port: 443, TLSInspector: true, AccessLog: StdoutLog,
		Chains: []*ir.Chain{
			{
				Name:                  ir.ChainName(443, "edge.gw.0"),
				ServerNames:           []string{"api.example.com", "*.api.example.com"},
				TLS:                   mutualTLS(),
				RBAC:                  httpRBAC(),
				MaxConnectionDuration: time.Hour,
				HTTP: &ir.HTTPChain{
					StatPrefix: ir.StatPrefix(HTTPSRoutes), RouteConfig: HTTPSRoutes,
					XFCC: &ir.XFCC{Mode: ir.XFCCSanitizeSet, Subject: true, URI: true, DNS: true},
					CORS: true, UseRemoteAddress: true, AccessLog: StdoutLog,
				},
			},
			{
				Name:        ir.ChainName(443, "edge.gw.1"),
				ServerNames: []string{"web.example.com"},
				TLS: &ir.DownstreamTLS{
					Mode: ir.TLSOptionalMutual, CertSecrets: []string{GatewayCert}, CASecret: GatewayCA,
					ALPN: []string{"h2", "http/1.1"},
				},
				HTTP: &ir.HTTPChain{StatPrefix: ir.StatPrefix(HTTPSRoutesB), RouteConfig: HTTPSRoutesB},
			},
			{
				Name:              ir.ChainName(443, "edge.gw.2.db.example.com"),
				ServerNames:       []string{"db.example.com"},
				TransportProtocol: "tls",
				TCP: &ir.TCPChain{
					StatPrefix:   "db",
					Destinations: []ir.WeightedCluster{{Cluster: DBCluster, Weight: 90}, {Cluster: DBReplica, Weight: 10}},
					IdleTimeout:  Ptr(4 * time.Hour),
				},
			},
		},
	}
}

func mutualTLS() *ir.DownstreamTLS {
	return &ir.DownstreamTLS{
		Mode:         ir.TLSMutual,
		CertSecrets:  []string{GatewayCert},
		CASecret:     GatewayCA,
		MinVersion:   "TLSv1_2",
		MaxVersion:   "TLSv1_3",
		CipherSuites: []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
		ECDHCurves:   []string{"X25519", "P-256"},
		ALPN:         []string{"h2", "http/1.1"},
		SubjectAltNames: []ir.SANMatch{
			{Type: ir.SANURI, Match: ir.StringMatch{Prefix: "spiffe://example.com/"}},
			{Type: ir.SANDNS, Match: ir.StringMatch{Exact: "client.example.com"}},
		},
		SPKI:        []string{"NvqYIYSbgK2vCJpQhObf77vv+bQWtc5ek5RIOwPiC9A="},
		CertHashes:  []string{"df6ff72fe9116521268f6f2dd4966f51df479883fe7037b39f75916ac3049d1a"},
		VerifyDepth: 2,
	}
}

// httpRBAC has DENY and ALLOW rules on every attribute an HTTP chain sees.
func httpRBAC() *ir.RBAC {
	return &ir.RBAC{
		Deny: []ir.AuthzRule{{
			Name: "ns[edge]-policy[deny-admin]-rule[0]",
			To: []ir.Operation{{
				Paths:   []ir.StringMatch{{Prefix: "/admin"}},
				Methods: []string{"DELETE", "PUT"},
			}},
			From: []ir.Source{{NotIPBlocks: []string{"10.0.0.0/8"}}},
			When: []ir.Condition{{Key: ir.CondCertCN, NotValues: []ir.StringMatch{{Exact: "admin, ops"}}}},
		}},
		HasAllow: true,
		Allow: []ir.AuthzRule{
			{
				Name: "ns[edge]-policy[api]-rule[0]",
				To: []ir.Operation{
					{Hosts: []ir.StringMatch{{Exact: "api.example.com"}, {Suffix: ".api.example.com"}}, NotPaths: []ir.StringMatch{{Exact: "/internal"}}},
					{Ports: []uint32{443}, NotMethods: []string{"TRACE"}},
				},
				From: []ir.Source{
					{Principals: []ir.StringMatch{{Exact: "spiffe://example.com/ns/apps/sa/web"}}},
					{RemoteIPBlocks: []string{"192.0.2.0/24", "2001:db8::1"}},
				},
				When: []ir.Condition{
					{Key: ir.CondRequestHeader, Header: "x-tenant", Values: []ir.StringMatch{{Exact: "blue"}}},
					{Key: ir.CondCertIssuer, Values: []ir.StringMatch{{Exact: "CN=Example CA,O=Example"}}},
					{Key: ir.CondCertFingerprint, NotValues: []ir.StringMatch{{Exact: "00ff"}}},
					{Key: ir.CondCertDNSSAN, Values: []ir.StringMatch{{Suffix: ".clients.example.com"}}},
					{Key: ir.CondSNI, Values: []ir.StringMatch{{Exact: "api.example.com"}}},
					{Key: ir.CondDestinationPort, Values: []ir.StringMatch{{Exact: "443"}}},
				},
			},
			{
				Name: "ns[edge]-policy[api]-rule[1]",
				When: []ir.Condition{
					{Key: ir.CondCertSubject, Values: []ir.StringMatch{{Regex: "CN=[a-z]+,O=Example"}}},
					{Key: ir.CondSourceIP, Values: []ir.StringMatch{{Exact: "203.0.113.7"}}},
					{Key: ir.CondRemoteIP, NotValues: []ir.StringMatch{{Exact: "198.51.100.0/24"}}},
					{Key: ir.CondSourcePrincipal, Values: []ir.StringMatch{{Present: true}}},
					{Key: ir.CondCertURISAN, Values: []ir.StringMatch{{Exact: "spiffe://example.com/ops"}}},
					{Key: ir.CondCertEmailSAN, Values: []ir.StringMatch{{Suffix: "@example.com", IgnoreCase: true}}},
					{Key: ir.CondCertIPSAN, Values: []ir.StringMatch{{Exact: "192.0.2.10"}}},
				},
			},
		},
	}
}

func tcpListener() *ir.Listener {
	return &ir.Listener{
		Name: ir.ListenerName(6443), Address: "0.0.0.0", Port: 6443,
		Chains: []*ir.Chain{{
			Name: ir.ChainName(6443, "edge.kube.0"),
			TLS:  &ir.DownstreamTLS{Mode: ir.TLSMutual, CertSecrets: []string{GatewayCert}, CASecret: GatewayCA},
			RBAC: &ir.RBAC{
				Deny: []ir.AuthzRule{{
					Name: "ns[edge]-policy[kube]-rule[0]",
					To:   []ir.Operation{{Methods: []string{"GET"}}},
					When: []ir.Condition{{Key: ir.CondRequestHeader, Header: "x-debug", Values: []ir.StringMatch{{Present: true}}}},
				}},
				HasAllow: true,
				Allow: []ir.AuthzRule{
					{Name: "ns[edge]-policy[kube]-rule[1]", To: []ir.Operation{{Paths: []ir.StringMatch{{Prefix: "/api"}}}}},
					{
						Name: "ns[edge]-policy[kube]-rule[2]",
						When: []ir.Condition{{Key: ir.CondCertCN, Values: []ir.StringMatch{{Prefix: "kube-"}}}},
					},
				},
			},
			MaxConnectionDuration: 30 * time.Minute,
			TCP:                   &ir.TCPChain{StatPrefix: "kube", Destinations: []ir.WeightedCluster{{Cluster: LegacyCluster}}},
		}},
	}
}

func plainRoutes() *ir.RouteConfig {
	return &ir.RouteConfig{Name: HTTPRoutes, VirtualHosts: []*ir.VirtualHost{{
		Name: "http.80.api", Domains: []string{"api.example.com", "api.example.com:80"}, RequireTLS: true,
		Routes: []*ir.Route{{
			Name:     "redirect",
			Redirect: &ir.Redirect{Scheme: "https", Port: 443, Code: 308},
		}},
	}}}
}

func httpsRoutesA() *ir.RouteConfig {
	return &ir.RouteConfig{Name: HTTPSRoutes, VirtualHosts: []*ir.VirtualHost{{
		Name:    "api.example.com",
		Domains: []string{"api.example.com", "*.api.example.com"},
		Headers: ir.HeaderOps{Request: ir.HeaderOp{
			Set:    []ir.Header{{Name: "x-client-subject", Value: "%DOWNSTREAM_PEER_SUBJECT%"}},
			Remove: []string{"x-client-subject"},
		}},
		Routes: []*ir.Route{
			{
				Name: "v1",
				Match: ir.RouteMatch{
					PathPrefix: "/v1/", IgnoreCase: true,
					Headers: []ir.HeaderMatch{
						{Name: ":method", Match: ir.StringMatch{Exact: "GET"}},
						{Name: "x-canary", Match: ir.StringMatch{Present: true}, Invert: true},
					},
					QueryParams: []ir.QueryMatch{{Name: "debug", Match: ir.StringMatch{Present: true}}, {Name: "v", Match: ir.StringMatch{Regex: "[0-9]+"}}},
				},
				Forward: &ir.Forward{
					Destinations: []ir.WeightedCluster{
						{Cluster: AppCluster, Weight: 90},
						{Cluster: CanaryCluster, Weight: 10, Headers: ir.HeaderOps{Response: ir.HeaderOp{Add: []ir.Header{{Name: "x-canary", Value: "1"}}}}},
					},
					Timeout:      Ptr(30 * time.Second),
					Retries:      &ir.Retry{Attempts: 2, PerTryTimeout: Ptr(5 * time.Second), RetryOn: "connect-failure,refused-stream"},
					RegexRewrite: &ir.RegexRewrite{Pattern: "^/v1/(.*)$", Substitution: "/\\1"},
					HostRewrite:  "app.internal",
				},
				Headers: ir.HeaderOps{Request: ir.HeaderOp{Add: []ir.Header{{Name: "x-route", Value: "v1"}}}, Response: ir.HeaderOp{Remove: []string{"server"}}},
				CORS: &ir.CORS{
					AllowOrigins:     []ir.StringMatch{{Exact: "https://app.example.com"}, {Regex: "https://.*\\.example\\.com"}},
					AllowMethods:     []string{"GET", "POST"},
					AllowHeaders:     []string{"authorization"},
					ExposeHeaders:    []string{"x-request-id"},
					MaxAge:           Ptr(10 * time.Minute),
					AllowCredentials: Ptr(true),
				},
			},
			{
				Name:    "grpc",
				Match:   ir.RouteMatch{PathRegex: "/pkg\\.[A-Z][a-z]+/.*", IgnoreCase: true},
				Forward: &ir.Forward{Destinations: []ir.WeightedCluster{{Cluster: GRPCCluster}}, PrefixRewrite: "/"},
			},
			{
				Name:     "old",
				Match:    ir.RouteMatch{PathExact: "/old"},
				Redirect: &ir.Redirect{Host: "new.example.com", Path: "/new", Code: 302},
			},
			{
				Name:    "default",
				Forward: &ir.Forward{Destinations: []ir.WeightedCluster{{Cluster: AppCluster}}},
			},
		},
	}}}
}

func httpsRoutesB() *ir.RouteConfig {
	return &ir.RouteConfig{Name: HTTPSRoutesB, VirtualHosts: []*ir.VirtualHost{{
		Name: "web.example.com", Domains: []string{"web.example.com"},
		Routes: []*ir.Route{
			{
				Name:           "no-cert",
				Match:          ir.RouteMatch{CertPresented: Ptr(false)},
				DirectResponse: &ir.DirectResponse{Status: 403, Body: "client certificate required\n"},
			},
			{Name: "web", Forward: &ir.Forward{Destinations: []ir.WeightedCluster{{Cluster: AppCluster}}}},
		},
	}}}
}

func clusters() []*ir.Cluster {
	return []*ir.Cluster{
		{Name: DBCluster, Kind: ir.ClusterStatic, Endpoints: []ir.Endpoint{{Address: "10.0.0.5", Port: 5432}}},
		{Name: DBReplica, Kind: ir.ClusterStatic, Endpoints: []ir.Endpoint{{Address: "10.0.0.6", Port: 5432}}},
		{
			Name: LegacyCluster, Kind: ir.ClusterStrictDNS, ConnectTimeout: 2 * time.Second,
			Endpoints: []ir.Endpoint{{Address: "legacy.internal", Port: 443}},
			TLS:       &ir.UpstreamTLS{SNI: "legacy.internal", InsecureSkipVerify: true},
		},
		{
			Name: AppCluster, Kind: ir.ClusterStrictDNS,
			Endpoints: []ir.Endpoint{{Address: "app.apps.svc", Port: 8443}},
			TLS: &ir.UpstreamTLS{
				SNI: "app.apps.svc", CASecret: BackendCA, CertSecret: BackendCert,
				MinVersion: "TLSv1_2", MaxVersion: "TLSv1_3", ALPN: []string{"http/1.1"},
			},
		},
		{
			Name: CanaryCluster, Kind: ir.ClusterStrictDNS,
			Endpoints: []ir.Endpoint{{Address: "canary.apps.svc", Port: 8443, Weight: 3}, {Address: "canary2.apps.svc", Port: 8443, Weight: 1}},
			TLS: &ir.UpstreamTLS{
				SNI: "canary.apps.svc", CASecret: BackendCA,
				SubjectAltNames: []ir.SANMatch{{Type: ir.SANURI, Match: ir.StringMatch{Exact: "spiffe://example.com/canary"}}},
			},
		},
		{
			Name: GRPCCluster, Kind: ir.ClusterEDS, HTTP2: true,
			Endpoints: []ir.Endpoint{{Address: "10.1.0.1", Port: 9000}, {Address: "10.1.0.2", Port: 9000}},
		},
	}
}

func secrets() []*ir.Secret {
	return []*ir.Secret{
		{Name: GatewayCert, Cert: &ir.CertKey{CertPEM: []byte(CertPEM), KeyPEM: []byte(KeyPEM)}},
		{Name: GatewayCA, Validation: &ir.Validation{CAPEM: []byte(CAPEM), CRLPEM: []byte(CRLPEM), OnlyVerifyLeafCRL: true}},
		{Name: BackendCA, Validation: &ir.Validation{CAPEM: []byte(CAPEM)}},
		{Name: BackendCert, Cert: &ir.CertKey{CertPEM: []byte(CertPEM), KeyPEM: []byte(KeyPEM)}},
	}
}
