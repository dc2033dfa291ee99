#!/usr/bin/env bash
# The loopback cluster's binaries (e2e/cluster.py runs them): kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl from k8s.io/kubernetes, kwok (fake nodes), KServe's manager (controller + admission
# webhooks), and etcd. Called by e2e/toolchain.sh, which exports the pins of e2e/versions.env and
# KSERVE_PLATFORM_CACHE. A tool already in $KSERVE_PLATFORM_CACHE/<tool>/<version>/ is not rebuilt.
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

# --- kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ---
# k8s.io/kubernetes replaces its staging modules with local folders, which only its own checkout can use: the
# wrapper module e2e/toolchain/modules/kubernetes pins each one to its published k8s.io/* release (go.sum verifies
# them) and names the commands as tools. Only the commands missing from the cache folder are built (a cache made
# before kube-scheduler joined gains just that binary; the others stay as they are).
kube_dir="$KSERVE_PLATFORM_CACHE/kubernetes/$KUBERNETES_VERSION"
kube_module="$here/modules/kubernetes"
require_pin "$kube_module" k8s.io/kubernetes "$KUBERNETES_VERSION" KUBERNETES_VERSION
kube_missing=()
for command in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$kube_dir/$command" ] || kube_missing+=("$command")
done
if [ ${#kube_missing[@]} -gt 0 ]; then
  echo "cluster.sh: building ${kube_missing[*]} $KUBERNETES_VERSION with go$KUBERNETES_GO_VERSION"
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
    go build -trimpath -ldflags "$ldflags" -o "$out/" "${kube_missing[@]/#/k8s.io/kubernetes/cmd/}")
  if [ -d "$kube_dir" ]; then
    # Each binary is renamed into place on its own: a test running the others meanwhile is not disturbed.
    for command in "${kube_missing[@]}"; do mv "$out/$command" "$kube_dir/$command"; done
    rmdir "$out"
  else
    mv "$out" "$kube_dir"
  fi
fi

# --- kwok: fake nodes and the pods bound to them ---
# kwok's controller keeps Nodes ready (heartbeat leases) and moves each Pod bound to them through its lifecycle
# (Running, Ready, deleted) without a kubelet or container. Built inside the released module, like KServe's manager:
# its go.mod has no replace lines and its go.sum decides every dependency. Run standalone, kwok has no Stages of its
# own: the ones kwokctl gives it by default (pkg/kwokctl/runtime/cluster.go) are copied from the same module into
# stages/ beside the binary, where e2e/cluster.py passes each to kwok.
kwok_dir="$KSERVE_PLATFORM_CACHE/kwok/$KWOK_VERSION"
kwok_stages=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
kwok_complete=true
[ -x "$kwok_dir/kwok" ] || kwok_complete=false
for stage in "${kwok_stages[@]}"; do [ -f "$kwok_dir/stages/$(basename "$stage")" ] || kwok_complete=false; done
if [ "$kwok_complete" = false ]; then
  echo "cluster.sh: building kwok $KWOK_VERSION with go$KWOK_GO_VERSION"
  out="$(install_dir "$kwok_dir")"
  src="$(cd "$out" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" \
    | python3 -c 'import json, sys; info = json.load(sys.stdin); print(info.get("Dir") or sys.exit(info.get("Error")))')"
  (cd "$src" && CGO_ENABLED=0 GOTOOLCHAIN="go$KWOK_GO_VERSION" GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
    -o "$out/kwok" ./cmd/kwok)
  mkdir "$out/stages"
  for stage in "${kwok_stages[@]}"; do cp "$src/kustomize/stage/$stage" "$out/stages/"; done
  rm -rf "$kwok_dir"
  mv "$out" "$kwok_dir"
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
