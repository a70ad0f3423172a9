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
}

// LoadOptions says what to load.
type LoadOptions struct {
	// Paths are files or directories (recursive; *.yaml and *.yml).
	Paths []string
	// SecretsDir is laid out like mounted Kubernetes Secrets:
	// DIR/<name>/{tls.crt,tls.key,ca.crt,ca.crl}.
	SecretsDir string
}
