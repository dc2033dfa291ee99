"""The cluster toolchain's wrapper modules build exactly what e2e/versions.env pins."""

from __future__ import annotations

import re

import pytest

from e2e.toolchain import E2E_DIR, versions

MODULES = E2E_DIR / "toolchain" / "modules"


def required_version(module_dir: str, module: str) -> str:
    go_mod = (MODULES / module_dir / "go.mod").read_text()
    found = re.search(rf"^\s*(?:require )?{re.escape(module)} (\S+)", go_mod, re.MULTILINE)
    assert found, f"{module_dir}/go.mod does not require {module}"
    return found.group(1)


@pytest.mark.parametrize(
    ("module_dir", "module", "pin"),
    [("kubernetes", "k8s.io/kubernetes", "KUBERNETES_VERSION"), ("etcd", "go.etcd.io/etcd/server/v3", "ETCD_VERSION")],
)
def test_wrapper_module_requires_the_pinned_release(module_dir: str, module: str, pin: str) -> None:
    assert required_version(module_dir, module) == versions()[pin]


def test_every_kubernetes_staging_module_is_pinned_to_the_matching_release() -> None:
    """k8s.io/kubernetes v1.X.Y's staging modules are published as v0.X.Y; a mismatch mixes two releases."""
    go_mod = (MODULES / "kubernetes" / "go.mod").read_text()
    staging = versions()["KUBERNETES_VERSION"].replace("v1.", "v0.", 1)
    replaced = dict(re.findall(r"^\s*(k8s\.io/[\w-]+) => k8s\.io/[\w-]+ (\S+)$", go_mod, re.MULTILINE))
    assert len(replaced) >= 30, replaced
    assert {module: version for module, version in replaced.items() if version != staging} == {}
