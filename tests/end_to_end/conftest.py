"""End-to-end tests: the real Pulumi CLI, provider, API server and KServe webhook (see e2e/).

Selected with `-m e2e` (`python3 -m pytest -q -m e2e tests/end_to_end`); the README's unit-test command leaves them
out. Outside CI a missing toolchain skips them with the command that builds it; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import pytest

# Each part of the harness brings its fixtures in a module of its own beside this file, imported here:
# fixtures_cluster (the loopback cluster and KServe), fixtures_pulumi (the CLI, a file backend, stacks).
from tests.end_to_end.fixtures_cluster import cluster_without_kserve_webhooks, kserve_cluster  # noqa: F401
from tests.end_to_end.fixtures_pulumi import pulumi_project, pulumi_toolchain  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/end_to_end/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)
