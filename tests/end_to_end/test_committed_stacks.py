"""Every committed stack's rendered objects pass the real API server and KServe's webhooks (server-side dry run).

The offline render (`python -m cli render`) writes what the program declares; each object of the kinds the loopback cluster
serves is applied with `kubectl apply --server-side --dry-run=server`: schema, admission plugins (PodSecurity
labels, ...) and KServe's defaulting and validating webhooks all judge it, nothing is stored. Gateway API objects
are left out: the harness serves KServe's CRDs, not Gateway API's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.cluster import Cluster
from tests.conftest import PROJECT_DIR, STACKS

CHECKED_KINDS = ("Namespace", "InferenceService", "ServingRuntime", "NetworkPolicy", "Secret", "ServiceAccount")


def rendered_objects(stack: str, out: Path) -> list[tuple[str, dict[str, Any]]]:
    render = subprocess.run(
        [sys.executable, "-m", "cli", "render", "--stack", stack, "--out", str(out)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert render.returncode == 0, f"cli render --stack {stack} failed:\n{render.stdout}\n{render.stderr}"
    objects = []
    for path in sorted((out / "1-manifest").glob("*.yaml")):
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        if manifest["kind"] in CHECKED_KINDS:
            objects.append((path.name, manifest))
    return objects


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_object_passes_the_api_server_and_kserve_webhooks(
    kserve_cluster: Cluster, stack: str, tmp_path: Path
) -> None:
    objects = rendered_objects(stack, tmp_path / "render")
    kinds = {manifest["kind"] for _, manifest in objects}
    assert "InferenceService" in kinds, f"stack {stack} renders no InferenceService"

    # Namespaced objects need their namespace to exist for a dry run: create the stack's namespaces that the
    # cluster lacks (deleted again below), dry-run the ones it has (e.g. `kserve`, which the harness made).
    existing = set(kserve_cluster.kubectl("get", "namespaces", "-o", "name").stdout.split())
    created = []
    refusals: dict[str, str] = {}
    try:
        for file_name, manifest in objects:
            if manifest["kind"] == "Namespace" and f"namespace/{manifest['metadata']['name']}" not in existing:
                result = kserve_cluster.apply([manifest], check=False)
                if result.returncode == 0:
                    created.append(manifest["metadata"]["name"])
                else:
                    refusals[file_name] = result.stderr.strip()
        for file_name, manifest in objects:
            if file_name in refusals or (manifest["kind"] == "Namespace" and manifest["metadata"]["name"] in created):
                continue
            result = kserve_cluster.apply([manifest], dry_run=True, check=False)
            if result.returncode != 0:
                refusals[file_name] = result.stderr.strip()
    finally:
        if created:
            kserve_cluster.kubectl(
                "delete", "namespace", *created, "--wait=true", "--timeout=120s", check=False, timeout=150
            )

    report = "\n".join(f"{name}:\n    {reason}" for name, reason in sorted(refusals.items()))
    assert not refusals, f"stack {stack}: {len(refusals)} of {len(objects)} objects refused:\n{report}"
