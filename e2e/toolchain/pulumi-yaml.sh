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
module="$here/modules/pulumi-language-yaml"
out_dir="$cache/pulumi-language-yaml/$PULUMI_LANGUAGE_YAML_VERSION/bin"
[ -x "$out_dir/pulumi-language-yaml" ] && exit 0

# The wrapper's go.mod builds, versions.env names the cache folder: they must agree.
got="$(cd "$module" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi-yaml)"
if [ "$got" != "$PULUMI_LANGUAGE_YAML_VERSION" ]; then
  echo "pulumi-yaml.sh: $module/go.mod requires github.com/pulumi/pulumi-yaml $got but e2e/versions.env pins" \
    "$PULUMI_LANGUAGE_YAML_VERSION; make them agree" >&2
  exit 1
fi
echo "pulumi-yaml.sh: building pulumi-language-yaml $PULUMI_LANGUAGE_YAML_VERSION"
# Built in a scratch copy of the wrapper, so the checkout stays clean; the release's own version stamp (goreleaser).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$module/go.mod" "$module/go.sum" "$work/"
mkdir -p "$out_dir"
(cd "$work" && GOFLAGS="-mod=readonly -trimpath" go build \
  -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$PULUMI_LANGUAGE_YAML_VERSION" \
  -o "$out_dir/pulumi-language-yaml.partial" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)
mv "$out_dir/pulumi-language-yaml.partial" "$out_dir/pulumi-language-yaml"
