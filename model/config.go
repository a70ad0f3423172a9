package model

// Config is every object loaded from the configuration paths and the secrets
// directory, in load order (files sorted by path, documents in file order).
type Config struct {
	Gateways                  []*Gateway
	VirtualServices           []*VirtualService
	DestinationRules          []*DestinationRule
	ServiceEntries            []*ServiceEntry
	AuthorizationPolicies     []*AuthorizationPolicy
	ClientCertificatePolicies []*ClientCertificatePolicy
	// Secrets from Secret documents; secrets from the secrets directory
	// have Pos.File set to the directory and Metadata.Namespace empty.
	Secrets []*Secret
	// ConfigMaps are the v1 ConfigMap documents; Mesh is decoded from
	// Istio's mesh configuration among them (nil when there is none).
	ConfigMaps []*ConfigMap
	Mesh       *MeshConfig
	// Warnings are findings of Load that do not stop the configuration
	// (fields and documents trustgate does not read).
	Warnings []*FieldError
	// Files holds the files named by Istio's file fields (serverCertificate,
	// privateKey, caCertificates, caCrl, clientCertificate), read during
	// Load and keyed by cleaned absolute path, so later stages stay pure.
	// Read them with File.
	Files map[string][]byte
	// SecretsDir is LoadOptions.SecretsDir, for messages.
	SecretsDir string
	// ShortNames and ClusterDomain are LoadOptions'; see ResolveShortNames.
	ShortNames    ShortNameRule
	ClusterDomain string
}

// LoadOptions says what to load.
type LoadOptions struct {
	// Paths are files or directories (recursive; *.yaml and *.yml).
	Paths []string
	// SecretsDir is laid out like mounted Kubernetes Secrets:
	// DIR/<name>/{tls.crt,tls.key,ca.crt,ca.crl}.
	SecretsDir string
	// ShortNames says how a host without a dot is read ("" is
	// ShortNamesDNS); ClusterDomain is the Kubernetes cluster domain for
	// ShortNamesKubernetes ("" is DefaultClusterDomain).
	ShortNames    ShortNameRule
	ClusterDomain string
}
