#!/usr/bin/env bash
# A code-generation-only stand-in for Pulumi's Node.js language host, so the real CLI's
# `pulumi package gen-sdk --language nodejs` generates the kserve-platform package's TypeScript SDK
# (tests/end_to_end/test_pulumi_package.py), built into $KSERVE_PLATFORM_CACHE:
#   pulumi-codegen-nodejs/<PULUMI_VERSION>/bin/pulumi-language-nodejs
# Why a stand-in, and what it does: e2e/toolchain/modules/pulumi-codegen-nodejs/main.go. Only the SDK generation test
# puts it on PATH (it runs no program). Skipped when built. Called by e2e/toolchain.sh, which exports the pins of
# e2e/versions.env and KSERVE_PLATFORM_CACHE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KSERVE_PLATFORM_CACHE:?run through e2e/toolchain.sh}"
: "${PULUMI_VERSION:?}"
# shellcheck source=lib.sh
. "$here/lib.sh"

# The generator is the CLI's release: the wrapper must require pkg/v3 at PULUMI_VERSION.
require_pin pulumi-codegen-nodejs github.com/pulumi/pulumi/pkg/v3 PULUMI_VERSION
host="$cache/pulumi-codegen-nodejs/$PULUMI_VERSION/bin/pulumi-language-nodejs"
[ -x "$host" ] && exit 0

echo "building the code generation host (pkg/v3 $PULUMI_VERSION codegen/nodejs)"
src="$(scratch_module pulumi-codegen-nodejs)"
out="$(partial_path "$host")"
(cd "$src" && GOFLAGS="-mod=readonly -trimpath" go build -ldflags "-s -w -X main.version=$PULUMI_VERSION" \
  -o "$out" .)
finish_install "$host"
