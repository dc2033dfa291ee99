#!/usr/bin/env bash
# The loopback cluster's binaries (e2e/cluster.py runs them): kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl from k8s.io/kubernetes, kwok (fake nodes), KServe's manager (controller + admission
# webhooks), and etcd; the four builds are independent and run at the same time. Called by e2e/toolchain.sh, which
# exports the pins of e2e/versions.env and KSERVE_PLATFORM_CACHE. A tool already in
# $KSERVE_PLATFORM_CACHE/<tool>/<version>/ is not rebuilt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${KSERVE_PLATFORM_CACHE:?run through e2e/toolchain.sh}"
# shellcheck source=lib.sh
. "$here/lib.sh"

require_pin etcd go.etcd.io/etcd/server/v3 ETCD_VERSION
require_pin kubernetes k8s.io/kubernetes KUBERNETES_VERSION

# --- etcd ---
# Built, not Debian's etcd-server (3.4): the release Kubernetes' own tests run the API server on
# (hack/lib/etcd.sh ETCD_VERSION), with Kubernetes' Go (versions.env says why).
etcd_dir="$KSERVE_PLATFORM_CACHE/etcd/$ETCD_VERSION"
build_etcd() {
  [ -x "$etcd_dir/etcd" ] && return 0
  echo "building etcd $ETCD_VERSION with go$KUBERNETES_GO_VERSION"
  local src out
  src="$(scratch_module etcd)"
  out="$(partial_path "$etcd_dir")"
  mkdir "$out"
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN="go$KUBERNETES_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  finish_install "$etcd_dir"
}

# --- kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ---
# k8s.io/kubernetes replaces its staging modules with local folders, which only its own checkout can use: the
# wrapper module e2e/toolchain/modules/kubernetes pins each one to its published k8s.io/* release (go.sum verifies
# them) and names the commands as tools. Only the commands missing from the cache folder are built (a cache made
# before kube-scheduler joined gains just that binary; the others stay as they are).
kube_dir="$KSERVE_PLATFORM_CACHE/kubernetes/$KUBERNETES_VERSION"
build_kubernetes() {
  local command kube_missing=()
  for command in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$kube_dir/$command" ] || kube_missing+=("$command")
  done
  [ ${#kube_missing[@]} -gt 0 ] || return 0
  echo "building ${kube_missing[*]} $KUBERNETES_VERSION with go$KUBERNETES_GO_VERSION"
  local src out minor major ldflags pkg
  src="$(scratch_module kubernetes)"
  out="$(partial_path "$kube_dir")"
  mkdir "$out"
  minor="${KUBERNETES_VERSION#v*.}"
  minor="${minor%%.*}"
  major="${KUBERNETES_VERSION#v}"
  major="${major%%.*}"
  # The version stamps Kubernetes' own build sets (hack/lib/version.sh): clients and servers compare them.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN="go$KUBERNETES_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "$ldflags" -o "$out/" "${kube_missing[@]/#/k8s.io/kubernetes/cmd/}")
  if [ -d "$kube_dir" ]; then
    # Each binary is renamed into place on its own: a test running the others meanwhile is not disturbed.
    for command in "${kube_missing[@]}"; do mv "$out/$command" "$kube_dir/$command"; done
    rmdir "$out"
  else
    finish_install "$kube_dir"
  fi
}

# --- kwok: fake nodes and the pods bound to them ---
# kwok's controller keeps Nodes ready (heartbeat leases) and moves each Pod bound to them through its lifecycle
# (Running, Ready, deleted) without a kubelet or container. Built inside the released module, like KServe's manager:
# its go.mod has no replace lines and its go.sum decides every dependency. Run standalone, kwok has no Stages of its
# own: the ones kwokctl gives it by default (pkg/kwokctl/runtime/cluster.go) are copied from the same module into
# stages/ beside the binary, where e2e/cluster.py passes each to kwok.
kwok_dir="$KSERVE_PLATFORM_CACHE/kwok/$KWOK_VERSION"
kwok_stages=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
build_kwok() {
  local stage complete=true
  [ -x "$kwok_dir/kwok" ] || complete=false
  for stage in "${kwok_stages[@]}"; do [ -f "$kwok_dir/stages/$(basename "$stage")" ] || complete=false; done
  [ "$complete" = false ] || return 0
  echo "building kwok $KWOK_VERSION with go$KWOK_GO_VERSION"
  local src out
  src="$(module_source "sigs.k8s.io/kwok@$KWOK_VERSION")"
  out="$(partial_path "$kwok_dir")"
  mkdir "$out"
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN="go$KWOK_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    -o "$out/kwok" ./cmd/kwok)
  mkdir "$out/stages"
  for stage in "${kwok_stages[@]}"; do cp "$src/kustomize/stage/$stage" "$out/stages/"; done
  finish_install "$kwok_dir"
}

# --- KServe's manager ---
# Built inside the released module (fetched and checked against the Go checksum database by `go mod download`),
# so KServe's own go.mod, replace lines and go.sum decide every dependency, exactly as KServe's release build.
kserve_dir="$KSERVE_PLATFORM_CACHE/kserve-manager/$KSERVE_MANAGER_VERSION"
build_kserve_manager() {
  [ -x "$kserve_dir/manager" ] && return 0
  echo "building KServe's manager $KSERVE_MANAGER_VERSION with go$KSERVE_MANAGER_GO_VERSION"
  local src out
  src="$(module_source "github.com/kserve/kserve@$KSERVE_MANAGER_VERSION")"
  out="$(partial_path "$kserve_dir")"
  mkdir "$out"
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN="go$KSERVE_MANAGER_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w" -o "$out/manager" ./cmd/manager)
  finish_install "$kserve_dir"
}

build() { "build_${1//-/_}"; }
run_all build etcd kubernetes kwok kserve-manager
