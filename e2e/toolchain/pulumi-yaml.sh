#!/usr/bin/env bash
# The Pulumi YAML language host, for Pulumi YAML programs that consume the kserve-platform package
# (tests/end_to_end/consumers/yaml), built from its pinned Go module into $KSERVE_PLATFORM_CACHE:
#   pulumi-language-yaml/<PULUMI_LANGUAGE_YAML_VERSION>/bin/pulumi-language-yaml
# e2e/pulumi_cli.py puts that folder on PATH, where the CLI finds language hosts. Skipped when built, so a warm run
# costs nothing. Called by e2e/toolchain.sh, which exports the pins of e2e/versions.env and KSERVE_PLATFORM_CACHE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KSERVE_PLATFORM_CACHE:?run through e2e/toolchain.sh}"
: "${PULUMI_LANGUAGE_YAML_VERSION:?}"
# shellcheck source=lib.sh
. "$here/lib.sh"

require_pin pulumi-language-yaml github.com/pulumi/pulumi-yaml PULUMI_LANGUAGE_YAML_VERSION
host="$cache/pulumi-language-yaml/$PULUMI_LANGUAGE_YAML_VERSION/bin/pulumi-language-yaml"
[ -x "$host" ] && exit 0

echo "building pulumi-language-yaml $PULUMI_LANGUAGE_YAML_VERSION"
src="$(scratch_module pulumi-language-yaml)"
out="$(partial_path "$host")"
# The release's own version stamp (goreleaser).
(cd "$src" && GOFLAGS="-mod=readonly -trimpath" go build \
  -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$PULUMI_LANGUAGE_YAML_VERSION" \
  -o "$out" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
finish_install "$host"
