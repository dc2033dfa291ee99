"""Issue 11 item 1 (preview part): `pulumi preview` of every committed stack's models-only form (`kserve.install:
false`, KServe run by the loopback cluster) through the real engine and provider against a real API server with
KServe's admission webhooks.

The provider previews with server-side apply, so the API server (and KServe's validating and defaulting webhooks,
registered by URL) sees each object the program would create. `pulumi up` of the same stacks:
test_up_against_cluster.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from e2e.pulumi_cli import PulumiProject
from tests.end_to_end.stacks import committed_stacks, stack_on_cluster


@pytest.mark.parametrize("stack", committed_stacks())
def test_preview_of_the_models_only_stack_succeeds_against_the_cluster(
    stack: str, pulumi_project: Callable[..., PulumiProject], kserve_cluster
) -> None:
    # Stacks that render to a directory instead of a cluster (local) preview against the cluster too.
    config, secrets = stack_on_cluster(stack)
    project = pulumi_project(KUBECONFIG=str(kserve_cluster.kubeconfig))
    project.new_stack(stack, config, secrets=secrets)
    result = project.run("preview", "--json", stack=stack)
    steps = json.loads(result.stdout)["steps"]
    created = {
        (step["newState"]["inputs"]["metadata"]["namespace"], step["newState"]["inputs"]["metadata"]["name"])
        for step in steps
        if step["op"] == "create"
        and step["newState"]["type"] == "kubernetes:serving.kserve.io/v1beta1:InferenceService"
    }
    assert created == set(committed_models_of(stack))


def committed_models_of(stack: str) -> list[tuple[str, str]]:
    from offline.stackconfig import load_stack_config

    return [(model.namespace, model.name) for model in load_stack_config(stack)[1].deployed_models]
