package deploy

import (
	"embed"
	"io/fs"
)

//go:embed all:chart
var chartFS embed.FS

// Chart is the Helm chart's files, rooted at the chart folder.
func Chart() fs.FS {
	sub, err := fs.Sub(chartFS, "chart")
	if err != nil {
		panic(err) // "chart" is embedded above
	}
	return sub
}

// CRDPath and IstioCRDsPath are where the chart keeps the CRDs.
const (
	CRDPath       = "crds/clientcertificatepolicies.yaml"
	IstioCRDsPath = "files/istio-crds.yaml"
)

// CRD is trustgate's ClientCertificatePolicy CustomResourceDefinition.
func CRD() []byte { return mustRead(CRDPath) }

// IstioCRDs are minimal CRDs for Istio's kinds (spec and status kept as
// given, every version served), for clusters without Istio; the chart
// installs them with istioCRDs=true.
func IstioCRDs() []byte { return mustRead(IstioCRDsPath) }

func mustRead(p string) []byte {
	b, err := fs.ReadFile(Chart(), p)
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}
