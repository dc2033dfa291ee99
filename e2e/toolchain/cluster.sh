#!/usr/bin/env bash
# The loopback cluster's binaries (e2e/cluster.py runs them): kube-apiserver, kube-controller-manager and kubectl
# from k8s.io/kubernetes, KServe's manager (controller + admission webhooks), and etcd. Called by e2e/toolchain.sh,
# which exports the pins of e2e/versions.env and KSERVE_PLATFORM_CACHE. A tool already in
# $KSERVE_PLATFORM_CACHE/<tool>/<version>/ is not rebuilt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${KSERVE_PLATFORM_CACHE:?run through e2e/toolchain.sh}"

# Builds into a temporary folder beside the target and renames it, so an interrupted build never looks finished.
install_dir() {
  local final="$1"
  mkdir -p "$(dirname "$final")"
  rm -rf "$final.partial"
  mkdir "$final.partial"
  echo "$final.partial"
}

# A wrapper module's go.mod must require the release e2e/versions.env pins (the cache folder is named after the pin).
require_pin() {
  local module_dir="$1" module="$2" version="$3" key="$4"
  if ! grep -Eq "^[[:space:]]*(require )?$module $version( |\$)" "$module_dir/go.mod"; then
    echo "cluster.sh: e2e/versions.env pins $key=$version but $module_dir/go.mod requires another $module;" \
      "change both together (then \`go mod tidy\` there)" >&2
    exit 1
  fi
}

# --- etcd ---
# Built, not Debian's etcd-server (3.4): the release Kubernetes' own tests run the API server on
# (hack/lib/etcd.sh ETCD_VERSION), with the Go its .go-version names.
etcd_dir="$KSERVE_PLATFORM_CACHE/etcd/$ETCD_VERSION"
etcd_module="$here/modules/etcd"
require_pin "$etcd_module" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" ETCD_VERSION
if [ ! -x "$etcd_dir/etcd" ]; then
  echo "cluster.sh: building etcd $ETCD_VERSION with go$ETCD_GO_VERSION"
  out="$(install_dir "$etcd_dir")"
  (cd "$etcd_module" && CGO_ENABLED=0 GOTOOLCHAIN="go$ETCD_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$etcd_dir"
  mv "$out" "$etcd_dir"
fi

# --- kube-apiserver, kube-controller-manager, kubectl ---
# k8s.io/kubernetes replaces its staging modules with local folders, which only its own checkout can use: the
# wrapper module e2e/toolchain/modules/kubernetes pins each one to its published k8s.io/* release (go.sum verifies
# them) and names the three commands as tools.
kube_dir="$KSERVE_PLATFORM_CACHE/kubernetes/$KUBERNETES_VERSION"
kube_module="$here/modules/kubernetes"
require_pin "$kube_module" k8s.io/kubernetes "$KUBERNETES_VERSION" KUBERNETES_VERSION
if [ ! -x "$kube_dir/kube-apiserver" ] || [ ! -x "$kube_dir/kube-controller-manager" ] || [ ! -x "$kube_dir/kubectl" ]; then
  echo "cluster.sh: building kube-apiserver, kube-controller-manager, kubectl $KUBERNETES_VERSION with go$KUBERNETES_GO_VERSION"
  out="$(install_dir "$kube_dir")"
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
  (cd "$kube_module" && CGO_ENABLED=0 GOTOOLCHAIN="go$KUBERNETES_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "$ldflags" -o "$out/" tool)
  rm -rf "$kube_dir"
  mv "$out" "$kube_dir"
fi

# --- KServe's manager ---
# Built inside the released module (fetched and checked against the Go checksum database by `go mod download`),
# so KServe's own go.mod, replace lines and go.sum decide every dependency, exactly as KServe's release build.
kserve_dir="$KSERVE_PLATFORM_CACHE/kserve-manager/$KSERVE_MANAGER_VERSION"
if [ ! -x "$kserve_dir/manager" ]; then
  echo "cluster.sh: building KServe's manager $KSERVE_MANAGER_VERSION with go$KSERVE_MANAGER_GO_VERSION"
  out="$(install_dir "$kserve_dir")"
  src="$(cd "$out" && go mod download -json "github.com/kserve/kserve@$KSERVE_MANAGER_VERSION" \
    | python3 -c 'import json, sys; info = json.load(sys.stdin); print(info.get("Dir") or sys.exit(info.get("Error")))')"
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN="go$KSERVE_MANAGER_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w" -o "$out/manager" ./cmd/manager)
  rm -rf "$kserve_dir"
  mv "$out" "$kserve_dir"
fi
