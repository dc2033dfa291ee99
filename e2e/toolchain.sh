#!/usr/bin/env bash
# Builds the end-to-end toolchain (Pulumi CLI + language host + Kubernetes provider; etcd, kube-apiserver,
# kube-controller-manager, KServe's manager) from pinned Go module versions into a cache outside the checkout.
# Idempotent: a tool whose pinned version is already in the cache is not rebuilt.
#   bash e2e/toolchain.sh                  build what is missing
#   bash e2e/toolchain.sh pulumi cluster   only these parts (script names under e2e/toolchain/)
# The parts build at the same time (a cold build mostly waits on downloads and single-threaded links), each output
# line prefixed with [part]; each part's time is printed when it ends, and every part that failed is named.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export KSERVE_PLATFORM_CACHE="${KSERVE_PLATFORM_CACHE:-$HOME/.cache/kserve-platform}"
set -a
# shellcheck source=versions.env
. "$here/versions.env"
set +a
# shellcheck source=toolchain/lib.sh
. "$here/toolchain/lib.sh"
job_label="toolchain: "

# Every script under toolchain/ is a part, except the library the parts share.
all_parts=()
for script in "$here"/toolchain/*.sh; do
  part="$(basename "$script" .sh)"
  [ "$part" = lib ] || all_parts+=("$part")
done
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=("${all_parts[@]}")
for part in "${parts[@]}"; do
  if [[ " ${all_parts[*]} " != *" $part "* ]]; then
    echo "toolchain.sh: no part named '$part'; the parts: ${all_parts[*]}" >&2
    exit 2
  fi
done

run_part() { bash "$here/toolchain/$1.sh"; }
run_all run_part "${parts[@]}"
