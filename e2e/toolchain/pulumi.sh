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
# Each part is skipped when its folder is complete, so a warm run costs seconds. The CLI, the language host, the
# provider and the two virtualenvs are built at the same time; the plugin install, which needs the CLI and the
# provider, follows. Called by e2e/toolchain.sh, which exports the pins of e2e/versions.env and KSERVE_PLATFORM_CACHE.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KSERVE_PLATFORM_CACHE:?run through e2e/toolchain.sh}"
: "${PULUMI_VERSION:?} ${PULUMI_LANGUAGE_PYTHON_VERSION:?}"
: "${PULUMI_KUBERNETES_VERSION:?} ${PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION:?} ${PULUMI_KUBERNETES_SDK_MODULE_VERSION:?}"
# shellcheck source=lib.sh
. "$here/lib.sh"

require_pin pulumi github.com/pulumi/pulumi/pkg/v3 PULUMI_VERSION
require_pin pulumi-language-python github.com/pulumi/pulumi/sdk/v3 PULUMI_LANGUAGE_PYTHON_VERSION
require_pin pulumi-resource-kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4 \
  PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION
require_pin pulumi-resource-kubernetes github.com/pulumi/pulumi-kubernetes/sdk/v4 PULUMI_KUBERNETES_SDK_MODULE_VERSION

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

build_cli() {
  [ -x "$cli_dir/bin/pulumi" ] && return 0
  echo "building the Pulumi CLI $PULUMI_VERSION"
  local src out
  src="$(scratch_module pulumi)"
  out="$(partial_path "$cli_dir/bin/pulumi")"
  (cd "$src" && go build -ldflags "-s -w -X $version_pkg.Version=$PULUMI_VERSION" \
    -o "$out" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  finish_install "$cli_dir/bin/pulumi"
}

build_language_host() {
  [ -x "$lang_dir/bin/pulumi-language-python" ] && [ -x "$lang_dir/bin/pulumi-language-python-exec" ] && return 0
  echo "building the Python language host of sdk/v3 $PULUMI_LANGUAGE_PYTHON_VERSION"
  local src out sdk
  src="$(scratch_module pulumi-language-python)"
  out="$(partial_path "$lang_dir/bin/pulumi-language-python")"
  (cd "$src" && go build -ldflags "-s -w -X $version_pkg.Version=$PULUMI_LANGUAGE_PYTHON_VERSION" \
    -o "$out" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
  # The exec shim is a Python script of the same module (verified by the wrapper's go.sum); the host goes in last,
  # so a folder with the host is complete.
  sdk="$(module_source github.com/pulumi/pulumi/sdk/v3 "$src")"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$lang_dir/bin/pulumi-language-python-exec"
  finish_install "$lang_dir/bin/pulumi-language-python"
}

build_provider() {
  [ -x "$provider_dir/bin/pulumi-resource-kubernetes" ] && return 0
  echo "building pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION ($PULUMI_KUBERNETES_PROVIDER_MODULE_VERSION)"
  local src provider sdk tree out
  src="$(scratch_module pulumi-resource-kubernetes)"
  # Both modules come through the wrapper's go.sum; the build then runs in copies of their folders laid out as
  # in the repository (provider/ beside sdk/), so the provider's own `replace .../sdk/v4 => ../sdk` and its own
  # go.sum hold unchanged.
  provider="$(module_source github.com/pulumi/pulumi-kubernetes/provider/v4 "$src")"
  sdk="$(module_source github.com/pulumi/pulumi-kubernetes/sdk/v4 "$src")"
  tree="$(mktemp -d "$toolchain_work/pulumi-kubernetes.XXXXXX")"
  cp -r "$provider" "$tree/provider"
  cp -r "$sdk" "$tree/sdk"
  chmod -R u+w "$tree"
  # The provider embeds its schema with the release version stamped in (upstream's `go generate` step).
  (cd "$tree/provider/cmd/pulumi-resource-kubernetes" && VERSION="$PULUMI_KUBERNETES_VERSION" go run generate.go)
  out="$(partial_path "$provider_dir/bin/pulumi-resource-kubernetes")"
  (cd "$tree/provider" && go build \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
    -o "$out" ./cmd/pulumi-resource-kubernetes)
  finish_install "$provider_dir/bin/pulumi-resource-kubernetes"
}

build_plugin() {
  local marker="$home_dir/.installed"
  [ -f "$marker" ] && return 0
  echo "installing the provider as plugin kubernetes $PULUMI_KUBERNETES_VERSION into $home_dir"
  mkdir -p "$home_dir"
  PULUMI_HOME="$home_dir" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DIY_BACKEND_URL="file://$toolchain_work" \
    "$cli_dir/bin/pulumi" plugin install resource kubernetes "$PULUMI_KUBERNETES_VERSION" \
    --file "$provider_dir/bin/pulumi-resource-kubernetes"
  PULUMI_HOME="$home_dir" PULUMI_SKIP_UPDATE_CHECK=true "$cli_dir/bin/pulumi" plugin ls
  touch "$marker"
}

# A virtualenv of exactly a hashed lock, isolated from the interpreter's own packages, then any further pip
# arguments; marked complete only at the end, so an interrupted one is made anew.
locked_venv() { # what dir lock [pip install arguments...]
  local what="$1" dir="$2" lock="$3"
  shift 3
  [ -f "$dir/.installed" ] && return 0
  echo "making $what $dir"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
  [ $# -eq 0 ] || "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  touch "$dir/.installed"
}

build_venv() {
  # What `pulumi up` installs (the hashed runtime lock), then the pulumi-kubernetes SDK at the provider's version
  # (same dependencies), so the SDK asks for the plugin installed.
  locked_venv "the program's virtualenv" "$venv_dir" "$runtime_lock" \
    --no-deps "pulumi-kubernetes==$PULUMI_KUBERNETES_VERSION"
}

build_policy_venv() {
  # What `pulumi preview --policy-pack` runs the pack with (the hashed policy lock), nothing else.
  locked_venv "the policy pack's virtualenv" "$policy_venv_dir" "$policy_lock"
}

build() { "build_${1//-/_}"; }
run_all build cli language-host provider venv policy-venv
run_all build plugin
