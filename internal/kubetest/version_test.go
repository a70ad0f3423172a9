package kubetest

import (
	"os"
	"regexp"
	"testing"
)

// TestScriptBuildsKubeVersion: the tests look for the binaries of
// KubeVersion where hack/kube-binaries.sh puts its default version.
func TestScriptBuildsKubeVersion(t *testing.T) {
	b, err := os.ReadFile("../../hack/kube-binaries.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`KUBE_VERSION="\$\{TRUSTGATE_KUBE_VERSION:-(v[0-9.]+)\}"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("hack/kube-binaries.sh sets no default KUBE_VERSION")
	}
	if string(m[1]) != KubeVersion {
		t.Errorf("hack/kube-binaries.sh builds %s, the tests look for %s", m[1], KubeVersion)
	}
}
