"""The loopback cluster with KServe's webhooks (e2e/cluster.py), one per test session.

Outside CI a missing toolchain skips with the command that builds it; with CI=true it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from e2e.cluster import Cluster, ToolchainMissing, start
from tests.schemas import require_shared


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


@pytest.fixture(scope="module")
def cluster_without_kserve_webhooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A cluster of the test module's own, its KServe webhook configurations removed, as on a cluster KServe is not
    installed in: a server-side apply of the chart's (service-based) ones over the harness's (URL-based) ones of the
    same names is refused ("exactly one of url or service is required")."""
    require_shared()
    try:
        cluster = start(tmp_path_factory.mktemp("cluster-without-kserve"))
    except ToolchainMissing as missing:
        require(str(missing))
    try:
        cluster.kubectl("delete", "mutatingwebhookconfigurations,validatingwebhookconfigurations", "--all")
        yield cluster
    finally:
        cluster.stop()
