#!/usr/bin/env bash
# Builds the end-to-end toolchain (Pulumi CLI + language host + Kubernetes provider; etcd, kube-apiserver,
# kube-controller-manager, KServe's manager) from pinned Go module versions into a cache outside the checkout.
# Idempotent: a tool whose pinned version is already in the cache is not rebuilt.
#   bash e2e/toolchain.sh            build what is missing
#   bash e2e/toolchain.sh pulumi     only one part (a script name under e2e/toolchain/)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export KSERVE_PLATFORM_CACHE="${KSERVE_PLATFORM_CACHE:-$HOME/.cache/kserve-platform}"
set -a
# shellcheck source=versions.env
. "$here/versions.env"
set +a
parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then
  parts=()
  for script in "$here"/toolchain/*.sh; do parts+=("$(basename "$script" .sh)"); done
fi
for part in "${parts[@]}"; do
  start=$(date +%s)
  bash "$here/toolchain/$part.sh"
  echo "toolchain: $part ready in $(( $(date +%s) - start )) s"
done
