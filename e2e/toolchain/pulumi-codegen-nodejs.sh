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
module="$here/modules/pulumi-codegen-nodejs"
out_dir="$cache/pulumi-codegen-nodejs/$PULUMI_VERSION/bin"
[ -x "$out_dir/pulumi-language-nodejs" ] && exit 0

# The generator is the CLI's release: the wrapper must require pkg/v3 at PULUMI_VERSION.
got="$(cd "$module" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
if [ "$got" != "$PULUMI_VERSION" ]; then
  echo "pulumi-codegen-nodejs.sh: $module/go.mod requires github.com/pulumi/pulumi/pkg/v3 $got but e2e/versions.env" \
    "pins PULUMI_VERSION=$PULUMI_VERSION; make them agree" >&2
  exit 1
fi
echo "pulumi-codegen-nodejs.sh: building the code generation host (pkg/v3 $PULUMI_VERSION codegen/nodejs)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$module/go.mod" "$module/go.sum" "$module/main.go" "$work/"
mkdir -p "$out_dir"
(cd "$work" && GOFLAGS="-mod=readonly -trimpath" go build -ldflags "-s -w -X main.version=$PULUMI_VERSION" \
  -o "$out_dir/pulumi-language-nodejs.partial" .)
mv "$out_dir/pulumi-language-nodejs.partial" "$out_dir/pulumi-language-nodejs"
