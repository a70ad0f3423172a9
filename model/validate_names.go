package model

import "regexp"

// Kubernetes' name rules (k8s.io/apimachinery/pkg/util/validation): object
// names are DNS-1123 subdomains, namespaces DNS-1123 labels. Istio's kinds
// and Secrets are stored by the Kubernetes API server under these rules, so
// a name outside them is a typo, or text meant to reach a log or terminal.
const (
	maxNameLen      = 253
	maxNamespaceLen = 63
)

var (
	dnsLabel     = `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
	dnsSubdomain = regexp.MustCompile(`^` + dnsLabel + `(\.` + dnsLabel + `)*$`)
	dnsLabelRE   = regexp.MustCompile(`^` + dnsLabel + `$`)
)

// names checks an object's name and namespace (entries of the secrets
// directory have none: their name is the directory's).
func (v *validator) names(o *Object) {
	if n := o.Metadata.Name; len(n) > maxNameLen || !dnsSubdomain.MatchString(n) {
		v.errorf(o, "metadata.name", "%q is not a valid name: Kubernetes names are lower-case letters, digits, '-' and '.', start and end with a letter or digit, and have at most %d characters", n, maxNameLen)
	}
	if o.Metadata.Namespace == "" { // a secrets-directory entry
		return
	}
	if ns := o.Metadata.Namespace; len(ns) > maxNamespaceLen || !dnsLabelRE.MatchString(ns) {
		v.errorf(o, "metadata.namespace", "%q is not a valid namespace: Kubernetes namespaces are lower-case letters, digits and '-', start and end with a letter or digit, and have at most %d characters", ns, maxNamespaceLen)
	}
}
