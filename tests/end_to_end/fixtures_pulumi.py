"""Fixtures for the real Pulumi CLI: the toolchain out of the cache and throwaway copies of the project.

Outside CI a toolchain that is not built skips each end-to-end test with the command that builds it; in CI
(CI=true) it fails them, so a CI run never passes by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from e2e.pulumi_cli import PROJECT_DIR, PulumiProject, PulumiToolchain

__all__ = ["pulumi_project", "pulumi_toolchain", "require_toolchain"]


def require_toolchain(missing_message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(missing_message, pytrace=False)
    pytest.skip(missing_message)


@pytest.fixture(scope="session")
def pulumi_toolchain() -> PulumiToolchain:
    toolchain = PulumiToolchain.from_cache()
    if toolchain.missing():
        require_toolchain(toolchain.not_built_message())
    return toolchain


@pytest.fixture
def pulumi_project(pulumi_toolchain: PulumiToolchain, tmp_path: Path) -> Iterator[Callable[..., PulumiProject]]:
    """Makes copies of the project, each with its own file backend: `pulumi_project(KUBECONFIG=...)`."""
    made = 0

    def make(**extra_env: str) -> PulumiProject:
        nonlocal made
        made += 1
        root = tmp_path / f"pulumi-{made}"
        return PulumiProject.copy_of(
            PROJECT_DIR, root / "project", pulumi_toolchain, state_dir=root / "state", **extra_env
        )

    yield make
