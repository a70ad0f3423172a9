package certs

import (
	"fmt"

	"sigs.k8s.io/yaml"
)

// secretDoc is the subset of a Kubernetes v1 Secret that SecretYAML writes.
type secretDoc struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   secretMeta        `json:"metadata"`
	Type       string            `json:"type"`
	StringData map[string]string `json:"stringData"`
}

type secretMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// SecretYAML returns a Kubernetes v1 Secret of type kubernetes.io/tls holding
// the issued files in stringData (tls.crt, tls.key, ca.crt and, when there is
// one, ca.crl), named after the certificate. namespace is "default" if empty.
func (is *Issued) SecretYAML(namespace string) ([]byte, error) {
	if namespace == "" {
		namespace = "default"
	}
	if err := validName(namespace); err != nil {
		return nil, fmt.Errorf("namespace %w", err)
	}
	data := map[string]string{
		FileCert: string(is.CertPEM),
		FileKey:  string(is.KeyPEM),
		FileCA:   string(is.CAPEM),
	}
	if len(is.CRLPEM) > 0 {
		data[FileCRL] = string(is.CRLPEM)
	}
	doc := secretDoc{
		APIVersion: "v1",
		Kind:       "Secret",
		Metadata:   secretMeta{Name: is.Name, Namespace: namespace},
		Type:       "kubernetes.io/tls",
		StringData: data,
	}
	return yaml.Marshal(doc)
}
