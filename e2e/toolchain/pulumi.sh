#!/usr/bin/env bash
# The Pulumi side of the end-to-end toolchain, built from pinned sources into $KSERVE_PLATFORM_CACHE:
#   pulumi/<PULUMI_VERSION>/bin/pulumi                                  the CLI (engine)
#   pulumi-language-python/<PULUMI_LANGUAGE_PYTHON_VERSION>/bin/         pulumi-language-python(-exec)
#   pulumi-resource-kubernetes/<PULUMI_KUBERNETES_VERSION>/bin/          the Kubernetes provider
#   pulumi-home/<PULUMI_VERSION>-kubernetes-<PULUMI_KUBERNETES_VERSION>/ a PULUMI_HOME with the provider installed
#                                                                        as a plugin, so no run ever downloads one
#   pulumi-venv/python<X.Y>-kubernetes-<PULUMI_KUBERNETES_VERSION>-<runtime lock hash>/   the program's virtualenv
#       (Pulumi.yaml's `virtualenv: venv` points at it): the hashed requirements.lock plus the pulumi-kubernetes SDK
#       at the provider's version, so the SDK asks the engine for the plugin installed
#   pulumi-policy-venv/python<X.Y>-<policy lock hash>/                   the policy pack's own virtualenv (its
#       PulumiPolicy.yaml's `virtualenv: venv`): exactly the hashed policy/requirements.lock
# Each part is skipped when its folder is complete, so a warm run costs seconds. Called by e2e/toolchain.sh, which
# exports the pins of e2e/versions.env and KSERVE_PLATFORM_CACHE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
modules="$here/modules"
cache="${KSERVE_PLATFORM_CACHE:?run through e2e/toolchain.sh}"
: "${PULUMI_VERSION:?} ${PULUMI_LANGUAGE_PYTHON_VERSION:?}"
: "${PULUMI_KUBERNETES_VERSION:?} ${PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION:?} ${PULUMI_KUBERNETES_SDK_MODULE_VERSION:?}"

cli_dir="$cache/pulumi/$PULUMI_VERSION"
lang_dir="$cache/pulumi-language-python/$PULUMI_LANGUAGE_PYTHON_VERSION"
provider_dir="$cache/pulumi-resource-kubernetes/$PULUMI_KUBERNETES_VERSION"
home_dir="$cache/pulumi-home/$PULUMI_VERSION-kubernetes-$PULUMI_KUBERNETES_VERSION"
python="${PYTHON:-python3}"
# Keyed by the runtime lock too: a relocked requirements.lock makes a new virtualenv.
runtime_lock="$here/../../requirements.lock"
venv_dir="$cache/pulumi-venv/python$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-kubernetes-$PULUMI_KUBERNETES_VERSION-$(sha256sum "$runtime_lock" | cut -c1-12)"
# The policy pack runs in a virtualenv of its own, keyed by its lock.
policy_lock="$here/../../policy/requirements.lock"
policy_venv_dir="$cache/pulumi-policy-venv/python$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-$(sha256sum "$policy_lock" | cut -c1-12)"
version_pkg=github.com/pulumi/pulumi/sdk/v3/go/common/version
export GOFLAGS="-mod=readonly -trimpath"

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# A wrapper module's pin must be the one versions.env names: the go.mod builds, versions.env keys the cache.
require_pin() { # module-dir module expected
  local got
  got="$(cd "$1" && go list -m -f '{{.Version}}' "$2")"
  if [ "$got" != "$3" ]; then
    echo "pulumi.sh: $1/go.mod requires $2 $got but e2e/versions.env pins $3; make them agree" >&2
    exit 1
  fi
}

# Copies a wrapper module to a scratch folder (the checkout stays clean) and prints that folder.
scratch_copy() { # module-name
  local dest="$work/$1"
  mkdir -p "$dest"
  cp "$modules/$1/go.mod" "$modules/$1/go.sum" "$dest/"
  echo "$dest"
}

build_cli() {
  [ -x "$cli_dir/bin/pulumi" ] && return 0
  echo "pulumi.sh: building the Pulumi CLI $PULUMI_VERSION"
  require_pin "$modules/pulumi" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"
  local src
  src="$(scratch_copy pulumi)"
  mkdir -p "$cli_dir/bin"
  (cd "$src" && go build -ldflags "-s -w -X $version_pkg.Version=$PULUMI_VERSION" \
    -o "$cli_dir/bin/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$cli_dir/bin/pulumi.partial" "$cli_dir/bin/pulumi"
}

build_language_host() {
  [ -x "$lang_dir/bin/pulumi-language-python" ] && [ -x "$lang_dir/bin/pulumi-language-python-exec" ] && return 0
  echo "pulumi.sh: building the Python language host of sdk/v3 $PULUMI_LANGUAGE_PYTHON_VERSION"
  require_pin "$modules/pulumi-language-python" github.com/pulumi/pulumi/sdk/v3 "$PULUMI_LANGUAGE_PYTHON_VERSION"
  local src sdk
  src="$(scratch_copy pulumi-language-python)"
  cp "$modules/pulumi-language-python/tools.go" "$src/"
  mkdir -p "$lang_dir/bin"
  (cd "$src" && go build -ldflags "-s -w -X $version_pkg.Version=$PULUMI_LANGUAGE_PYTHON_VERSION" \
    -o "$lang_dir/bin/pulumi-language-python.partial" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
  # The exec shim is a Python script of the same module (verified by the wrapper's go.sum).
  sdk="$(cd "$src" && go mod download -json github.com/pulumi/pulumi/sdk/v3 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$lang_dir/bin/pulumi-language-python-exec"
  mv "$lang_dir/bin/pulumi-language-python.partial" "$lang_dir/bin/pulumi-language-python"
}

build_provider() {
  [ -x "$provider_dir/bin/pulumi-resource-kubernetes" ] && return 0
  echo "pulumi.sh: building pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION ($PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION)"
  local wrapper="$modules/pulumi-resource-kubernetes"
  require_pin "$wrapper" github.com/pulumi/pulumi-kubernetes/provider/v4 "$PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION"
  require_pin "$wrapper" github.com/pulumi/pulumi-kubernetes/sdk/v4 "$PULUMI_KUBERNETES_SDK_MODULE_VERSION"
  local src provider sdk
  src="$(scratch_copy pulumi-resource-kubernetes)"
  # Both modules come through the wrapper's go.sum; the build then runs in copies of their folders laid out as
  # in the repository (provider/ beside sdk/), so the provider's own `replace .../sdk/v4 => ../sdk` and its own
  # go.sum hold unchanged.
  provider="$(cd "$src" && go mod download -json github.com/pulumi/pulumi-kubernetes/provider/v4 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  sdk="$(cd "$src" && go mod download -json github.com/pulumi/pulumi-kubernetes/sdk/v4 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  cp -r "$provider" "$work/provider"
  cp -r "$sdk" "$work/sdk"
  chmod -R u+w "$work/provider" "$work/sdk"
  # The provider embeds its schema with the release version stamped in (upstream's `go generate` step).
  (cd "$work/provider/cmd/pulumi-resource-kubernetes" && VERSION="$PULUMI_KUBERNETES_VERSION" go run generate.go)
  mkdir -p "$provider_dir/bin"
  (cd "$work/provider" && go build \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
    -o "$provider_dir/bin/pulumi-resource-kubernetes.partial" ./cmd/pulumi-resource-kubernetes)
  mv "$provider_dir/bin/pulumi-resource-kubernetes.partial" "$provider_dir/bin/pulumi-resource-kubernetes"
}

install_provider_plugin() {
  local marker="$home_dir/.installed"
  [ -f "$marker" ] && return 0
  echo "pulumi.sh: installing the provider as plugin kubernetes $PULUMI_KUBERNETES_VERSION into $home_dir"
  mkdir -p "$home_dir"
  PULUMI_HOME="$home_dir" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DIY_BACKEND_URL="file://$work" \
    "$cli_dir/bin/pulumi" plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" \
    --file "$provider_dir/bin/pulumi-resource-kubernetes"
  PULUMI_HOME="$home_dir" PULUMI_SKIP_UPDATE_CHECK=true "$cli_dir/bin/pulumi" plugin ls
  touch "$marker"
}

make_venv() {
  [ -f "$venv_dir/.installed" ] && return 0
  echo "pulumi.sh: making the program's virtualenv $venv_dir"
  rm -rf "$venv_dir"
  # What `pulumi up` installs (the hashed runtime lock), isolated from the interpreter's own packages, then the
  # pulumi-kubernetes SDK at the provider's version (same dependencies), so the SDK asks for the plugin installed.
  "$python" -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$runtime_lock"
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    "pulumi-kubernetes==$PULUMI_KUBERNETES_VERSION"
  touch "$venv_dir/.installed"
}

make_policy_venv() {
  [ -f "$policy_venv_dir/.installed" ] && return 0
  echo "pulumi.sh: making the policy pack's virtualenv $policy_venv_dir"
  rm -rf "$policy_venv_dir"
  # What `pulumi preview --policy-pack` runs the pack with (the hashed policy lock), nothing else.
  "$python" -m venv "$policy_venv_dir"
  "$policy_venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$policy_lock"
  touch "$policy_venv_dir/.installed"
}

build_cli
build_language_host
build_provider
install_provider_plugin
make_venv
make_policy_venv
