// Package kubetest runs a real Kubernetes API server (kube-apiserver and
// etcd, built by hack/kube-binaries.sh) on loopback for the Kubernetes
// tests, and renders and applies the Helm chart. Only tests import it.
//
// The binaries are looked up in $KUBEBUILDER_ASSETS, else in the cache
// folder hack/kube-binaries.sh writes
// (${XDG_CACHE_HOME:-$HOME/.cache}/trustgate/kube/<KubeVersion>, or
// $TRUSTGATE_KUBE_CACHE/<KubeVersion>). When they are absent, Start returns
// ErrNoBinaries and the tests skip, saying how to build them.
package kubetest
