package model

import "sync"

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
	// Files holds the files named by Istio's file fields (serverCertificate,
	// privateKey, caCertificates, caCrl, clientCertificate), read during
	// Load and keyed by cleaned absolute path, so later stages stay pure.
	// Read them with File.
	Files map[string][]byte
	// SecretsDir is LoadOptions.SecretsDir, for messages.
	SecretsDir string

	// materials caches each secret's material (material.go).
	materials sync.Map
}

// LoadOptions says what to load.
type LoadOptions struct {
	// Paths are files or directories (recursive; *.yaml and *.yml).
	Paths []string
	// SecretsDir is laid out like mounted Kubernetes Secrets:
	// DIR/<name>/{tls.crt,tls.key,ca.crt,ca.crl}.
	SecretsDir string
}
