package model

import (
	"sync"
	"sync/atomic"
)

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
	// SecretsDirs is LoadOptions.SecretsDirs, for messages.
	SecretsDirs []string
	// ShortNames and ClusterDomain are LoadOptions'; see ResolveShortNames.
	ShortNames    ShortNameRule
	ClusterDomain string

	// materials caches each secret's material (material.go) and secretIdx
	// indexes Secrets by name (secret_index.go); set by the loaders, shared
	// by the copies ResolveShortNames makes.
	materials *sync.Map
	secretIdx *atomic.Pointer[secretIndex]
}

// LoadOptions says what to load.
type LoadOptions struct {
	// Paths are files or directories (recursive; *.yaml and *.yml).
	Paths []string
	// SecretsDirs are laid out like mounted Kubernetes Secrets:
	// DIR/<name>/{tls.crt,tls.key,ca.crt,ca.crl}. Each adds its secrets;
	// a name in several of them must hold the same material in each, or
	// the secret is ambiguous (as between Secret documents).
	SecretsDirs []string
	// ShortNames says how a host without a dot is read ("" is
	// ShortNamesDNS); ClusterDomain is the Kubernetes cluster domain for
	// ShortNamesKubernetes ("" is DefaultClusterDomain).
	ShortNames    ShortNameRule
	ClusterDomain string
}
