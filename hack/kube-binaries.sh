#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy for the Kubernetes
# tests (source/kubernetes, chart/) and caches them outside the repository.
#
#   hack/kube-binaries.sh          build if missing, print the binary folder
#   hack/kube-binaries.sh --path   print the folder only (exit 1 when absent)
#
# Kubernetes is not a normal Go dependency: k8s.io/kubernetes points every
# staging module (k8s.io/api, k8s.io/client-go, ...) at ./staging/src with a
# relative replace, which a consumer cannot use. A throw-away module in a
# temporary folder therefore requires k8s.io/kubernetes vX.Y.Z and replaces each
# staging module with its published v0.Y.Z. sample-cli-plugin and
# sample-controller are skipped: the proxy does not serve them and nothing the
# two binaries import needs them.
#
# Output: ${XDG_CACHE_HOME:-$HOME/.cache}/trustgate/kube/<version>/{kube-apiserver,etcd}
# (override the folder with TRUSTGATE_KUBE_CACHE). The folder works as
# KUBEBUILDER_ASSETS for controller-runtime's envtest too.
#
# First build: about 10-25 minutes on 2 cores (all of Kubernetes' API server
# and etcd compile once); later runs only check that the two files exist.
set -euo pipefail

KUBE_VERSION="${TRUSTGATE_KUBE_VERSION:-v1.37.2}"
cache_root="${TRUSTGATE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trustgate/kube}"
out="$cache_root/$KUBE_VERSION"

have() { [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; }

if [ "${1:-}" = "--path" ]; then
	have || exit 1
	echo "$out"
	exit 0
fi
if have; then
	echo "$out"
	exit 0
fi

mkdir -p "$out"
# One build at a time per version: a second caller waits for the first.
exec 9>"$out/.lock"
flock 9
if have; then
	echo "$out"
	exit 0
fi

staging_version="v0.${KUBE_VERSION#v1.}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

export GOFLAGS=-mod=mod
export CGO_ENABLED=0

echo "kube-binaries: resolving k8s.io/kubernetes@$KUBE_VERSION" >&2
kube_mod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
if [ -z "$kube_mod" ] || [ ! -f "$kube_mod" ]; then
	echo "kube-binaries: cannot download k8s.io/kubernetes@$KUBE_VERSION" >&2
	exit 1
fi
go_directive="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kube_mod" | head -n1)"

{
	echo "module trustgate.invalid/kubebinaries"
	echo
	echo "go ${go_directive:-1.26.0}"
	echo
	echo "require k8s.io/kubernetes $KUBE_VERSION"
	echo
	echo "replace ("
	# Every "k8s.io/X => ./staging/src/k8s.io/X" line of Kubernetes' go.mod.
	sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$kube_mod" |
		grep -v -e '^k8s.io/sample-cli-plugin$' -e '^k8s.io/sample-controller$' |
		while read -r m; do echo "	$m => $m $staging_version"; done
	echo ")"
} >go.mod
cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
GO

pkg_version=k8s.io/component-base/version
client_version=k8s.io/client-go/pkg/version
minor="${KUBE_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
for p in "$pkg_version" "$client_version"; do
	ldflags="$ldflags -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
	ldflags="$ldflags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done

start=$(date +%s)
echo "kube-binaries: building kube-apiserver $KUBE_VERSION (staging $staging_version); this takes a while" >&2
nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$work/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
etcd_version="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
echo "kube-binaries: building etcd $etcd_version" >&2
nice -n 10 go build -trimpath -ldflags "-s -w" -o "$work/etcd" go.etcd.io/etcd/server/v3
mv "$work/kube-apiserver" "$out/kube-apiserver.tmp" && mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
mv "$work/etcd" "$out/etcd.tmp" && mv "$out/etcd.tmp" "$out/etcd"
echo "kube-binaries: built in $(($(date +%s) - start))s into $out" >&2
echo "$out"
