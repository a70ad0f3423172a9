package model

// TrustgateAPIVersion is the apiVersion of trustgate's own kinds.
const TrustgateAPIVersion = "trustgate.dev/v1alpha1"

// ClientCertificatePolicy holds the client-certificate knobs Istio's kinds
// lack. It targets a Gateway and optionally one of its servers
// (targetRef.sectionName = the server's name, or its port name), so the
// Istio objects themselves stay valid for Istio.
type ClientCertificatePolicy struct {
	Object `json:",inline"`
	Spec   ClientCertificatePolicySpec `json:"spec"`
}

// ClientCertificatePolicySpec is ClientCertificatePolicy.spec.
type ClientCertificatePolicySpec struct {
	// TargetRef names the Gateway (kind Gateway, name, optional namespace
	// defaulting to the policy's) and optionally a server (sectionName).
	TargetRef PolicyTargetReference `json:"targetRef"`
	// ClientCA overrides the server's client CA: a secret with ca.crt (and
	// optionally ca.crl), resolved like credentialName. Lets hosts sharing one
	// wildcard certificate on a port trust different client CAs.
	ClientCA string `json:"clientCA,omitempty"`
	// CRL controls revocation checking.
	CRL *CRLPolicy `json:"crl,omitempty"`
	// VerifyDepth is the number of intermediate CAs allowed between the
	// client certificate and the trusted CA that issued the chain, as
	// nginx's ssl_verify_depth counts them (OpenSSL 1.1 and later): 0 means
	// the trusted CA signed the client certificate itself.
	VerifyDepth *uint32 `json:"verifyDepth,omitempty"`
	// SubjectAltNames: a client certificate must carry one of these SANs.
	// An exact DNS match accepts a wildcard SAN that covers the name (Envoy's
	// DNS matching) unless it sets noWildcard.
	SubjectAltNames []SANMatcher `json:"subjectAltNames,omitempty"`
	// VerifyCertificateSpki pins base64 SHA-256 SPKI hashes.
	VerifyCertificateSpki []string `json:"verifyCertificateSpki,omitempty"`
	// VerifyCertificateHash pins hex SHA-256 certificate hashes.
	VerifyCertificateHash []string `json:"verifyCertificateHash,omitempty"`
	// Rejection answers requests that carry no client certificate with an
	// HTTP response instead of failing the handshake (server mode
	// OPTIONAL_MUTUAL).
	Rejection *Rejection `json:"rejection,omitempty"`
	// ForwardClientCert controls x-forwarded-client-cert.
	ForwardClientCert *ForwardClientCert `json:"forwardClientCert,omitempty"`
	// IdentityHeaders are headers filled from the peer certificate; a
	// client's copy is always removed.
	IdentityHeaders *IdentityHeaders `json:"identityHeaders,omitempty"`
	// MaxConnectionDuration D ("1h", "15m") closes TCP connections D after
	// they were accepted, and drains HTTP connections then while ending every
	// request D after it started, so a revoked certificate stops working
	// within 2D + 5 s (Envoy's drain time).
	MaxConnectionDuration string `json:"maxConnectionDuration,omitempty"`
	// Authorization allows or denies requests by certificate fields.
	Authorization *CertAuthorization `json:"authorization,omitempty"`
}

// CRLPolicy controls revocation checking.
type CRLPolicy struct {
	// OnlyVerifyLeaf checks the leaf's CRL only; by default every CA in the
	// chain needs a CRL.
	OnlyVerifyLeaf bool `json:"onlyVerifyLeaf,omitempty"`
}

// SANMatcher matches one subject alternative name of a type.
type SANMatcher struct {
	Type      string `json:"type"` // DNS, URI, EMAIL, IP
	CertMatch `json:",inline"`
}

// CertMatch is a string match on a certificate field (one of).
type CertMatch struct {
	Exact  string `json:"exact,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Suffix string `json:"suffix,omitempty"`
	Regex  string `json:"regex,omitempty"`
	// NoWildcard, with Exact on a DNS SAN, matches the SAN literally (ASCII
	// case aside): Envoy's exact DNS SAN match follows DNS wildcard rules,
	// so a certificate for *.example.com satisfies exact admin.example.com.
	NoWildcard bool `json:"noWildcard,omitempty"`
}

// Rejection is the HTTP answer to a request without a client certificate:
// a status with a body, or a redirect.
type Rejection struct {
	Status   uint32 `json:"status,omitempty"`
	Body     string `json:"body,omitempty"`
	Redirect string `json:"redirect,omitempty"`
}

// ForwardClientCert is the x-forwarded-client-cert policy.
type ForwardClientCert struct {
	// Mode is Envoy's: SANITIZE, FORWARD_ONLY, APPEND_FORWARD, SANITIZE_SET
	// (default), ALWAYS_FORWARD_ONLY.
	Mode    string `json:"mode,omitempty"`
	Subject *bool  `json:"subject,omitempty"` // default true
	URI     *bool  `json:"uri,omitempty"`     // default true
	DNS     *bool  `json:"dns,omitempty"`     // default true
	Cert    bool   `json:"cert,omitempty"`    // pass the certificate (PEM, URL-encoded)
	Chain   bool   `json:"chain,omitempty"`
}

// IdentityHeaders names the headers filled from the peer certificate.
type IdentityHeaders struct {
	Subject     string `json:"subject,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	URISAN      string `json:"uriSan,omitempty"`
	DNSSAN      string `json:"dnsSan,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Serial      string `json:"serial,omitempty"`
	// IngressNginx adds ssl-client-verify, ssl-client-subject-dn and
	// ssl-client-issuer-dn as ingress-nginx sends them.
	IngressNginx bool `json:"ingressNginx,omitempty"`
}

// CertAuthorization allows or denies requests by certificate fields; each
// list is evaluated with Istio's ALLOW/DENY semantics alongside
// AuthorizationPolicies on the same gateway.
type CertAuthorization struct {
	Allow []CertRule `json:"allow,omitempty"`
	Deny  []CertRule `json:"deny,omitempty"`
}

// CertRule matches when every given field matches (each field: any of its
// matchers), and the request is for one of Hosts/Paths when given.
type CertRule struct {
	Name        string      `json:"name,omitempty"`
	Subject     []CertMatch `json:"subject,omitempty"`
	CommonName  []CertMatch `json:"commonName,omitempty"`
	Issuer      []CertMatch `json:"issuer,omitempty"`
	Fingerprint []CertMatch `json:"fingerprint,omitempty"`
	DNSSAN      []CertMatch `json:"dnsSan,omitempty"`
	URISAN      []CertMatch `json:"uriSan,omitempty"`
	EmailSAN    []CertMatch `json:"emailSan,omitempty"`
	IPSAN       []CertMatch `json:"ipSan,omitempty"`
	Hosts       []string    `json:"hosts,omitempty"`
	Paths       []string    `json:"paths,omitempty"`
}

// MaxVerifyDepth is the largest verifyDepth: Envoy's max_verify_depth is at
// most 100 and counts the trust anchor, one more than verifyDepth.
const MaxVerifyDepth = 99
