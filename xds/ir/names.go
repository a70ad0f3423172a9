package ir

import (
	"strconv"
	"strings"
)

// Names of Envoy resources come from this file only: routes, HCMs, secrets and
// clusters refer to each other by these strings, and the server's version
// hashing and the reference checks rely on them being stable.

// ListenerName names the listener bound to a port.
func ListenerName(port uint32) string { return "listener_" + portString(port) }

// ChainName names a filter chain: the port, the server's position-independent key
// (gateway namespace/name and server index or port name) and, for passthrough
// chains, the SNI hosts.
func ChainName(port uint32, key string) string {
	return portString(port) + "/" + key
}

// AnySNIChainName names the second filter chain of a TLS server whose
// hosts are "*" besides other names: ChainName's chain matches those names
// by SNI, this one, with the same TLS context and route configuration,
// matches every other SNI and none.
func AnySNIChainName(port uint32, key string) string {
	return ChainName(port, key) + "/any-sni"
}

// RouteConfigName names the route configuration of one HTTP filter chain.
// Each TLS server gets its own (see Chain), so a client that passed one host's
// TLS policy cannot reach another host by changing the Host header.
func RouteConfigName(port uint32, key string) string {
	return "https." + portString(port) + "." + key
}

// HTTPRouteConfigName names the shared route configuration of a plain-HTTP port.
func HTTPRouteConfigName(port uint32) string { return "http." + portString(port) }

// ClusterName names the cluster for a destination host, port and subset, in
// Istio's outbound|port|subset|host form so that operators recognise it.
func ClusterName(host string, port uint32, subset string) string {
	return "outbound|" + portString(port) + "|" + subset + "|" + host
}

// portString is a port in decimal, as %d prints it. The names above are
// made by concatenation rather than fmt.Sprintf because a build makes them
// for every host: at 10,000 hosts Sprintf's boxing of its arguments was a
// measurable share of a reload's allocations.
func portString(port uint32) string { return strconv.FormatUint(uint64(port), 10) }

// CertSecretName names the SDS secret holding a certificate and private key.
// Istio's own form ("kubernetes://<name>") is kept, qualified by namespace so
// that two namespaces' secrets of the same name never collide.
func CertSecretName(namespace, name string) string {
	return "kubernetes://" + namespace + "/" + name
}

// CASecretName names the SDS secret holding a validation context (CA bundle
// and CRLs), Istio's "-cacert" convention.
func CASecretName(namespace, name string) string {
	return CertSecretName(namespace, name) + "-cacert"
}

// FileSecretName names a secret built from Istio's file fields
// (serverCertificate/privateKey, caCertificates/caCrl); key is a short
// content-independent identifier of the file paths.
func FileSecretName(kind, key string) string {
	return "file://" + kind + "/" + key
}

// StatPrefix turns a resource name into an Envoy stat prefix: Envoy splits
// stat names on '.', and ':' or '/' read badly in Prometheus names.
func StatPrefix(name string) string { return statReplacer.Replace(name) }

// statReplacer is built once: building a Replacer costs far more than using
// it, and StatPrefix runs for every chain and route configuration.
var statReplacer = strings.NewReplacer(".", "_", ":", "_", "/", "_", "|", "_", "*", "wildcard")
