"""The loopback cluster with KServe's webhooks (e2e/cluster.py), one per test session.

Outside CI a missing toolchain skips with the command that builds it; with CI=true it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from e2e.cluster import Cluster, ToolchainMissing, start


def require(reason: str) -> None:
    """Skip outside CI, fail in CI (CI=true: the end-to-end suite never skips there)."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def kserve_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A fresh cluster: `.kubeconfig` (admin), `.kubectl(*args, input=..., check=...)`, `.apply(objects,
    dry_run=...)`; KServe's CRDs, `inferenceservice-config` and built-in ClusterServingRuntimes are in it."""
    try:
        cluster = start(tmp_path_factory.mktemp("cluster"))
    except ToolchainMissing as missing:
        require(str(missing))
    try:
        yield cluster
    finally:
        cluster.stop()
