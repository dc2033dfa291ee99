"""Issue 11 item 2 (rename), through the real Pulumi CLI, engine and Kubernetes provider, against the loopback cluster
(KServe's webhooks and controller, kwok's fake nodes).

The stack is the committed `local` stack's models-only form applied to the cluster (instead of its
renderYamlToDirectory). A model renamed with `renamedFrom` is one replacement of its InferenceService: the new one is
created and Ready before the old one is deleted, and nothing else changes; `destroy` then removes both names.
A second `up` changing nothing and `destroy` of every committed stack: test_up_against_cluster.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import yaml

from e2e.cluster import Cluster
from e2e.pulumi_cli import PulumiProject
from tests.end_to_end.stacks import PROJECT, destroy_leftovers, stack_on_cluster

STACK = "local"
MODELS_KEY = f"{PROJECT}:models"
ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
COMPONENT_TYPE = "kserve-platform:models:InferenceService"
# `up` waits for every InferenceService to be Ready: seconds on the fake nodes; a model that cannot turn Ready would
# keep it waiting until the stack's readinessTimeout.
UP_TIMEOUT = 300


def set_config(project: PulumiProject, config: dict[str, Any]) -> None:
    stack_file = project.workdir / f"Pulumi.{STACK}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    # Keep the secrets `pulumi config set --secret` wrote; replace the plain values.
    document["config"] = {
        **{key: value for key, value in document["config"].items() if isinstance(value, dict) and "secure" in value},
        **config,
    }
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))


def state_resources(project: PulumiProject) -> list[dict[str, Any]]:
    return json.loads(project.run("stack", "export", stack=STACK).stdout)["deployment"].get("resources") or []


def inference_service(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    result = cluster.kubectl("get", "inferenceservice", name, "-n", namespace, "-o", "json", check=False)
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    return json.loads(result.stdout)


def is_ready(isvc: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in isvc.get("status", {}).get("conditions", []))


def uid_of(cluster: Cluster, model: dict[str, Any]) -> str:
    live = inference_service(cluster, model["namespace"], model["name"])
    assert live is not None, model["name"]
    return str(live["metadata"]["uid"])


def test_rename_replaces_only_the_renamed_model(
    pulumi_project: Callable[..., PulumiProject], kserve_cluster: Cluster
) -> None:
    config, secrets = stack_on_cluster(STACK)
    project = pulumi_project(KUBECONFIG=str(kserve_cluster.kubeconfig))
    project.new_stack(STACK, config, secrets=secrets)
    try:
        project.run("up", "--yes", "--skip-preview", stack=STACK, timeout=UP_TIMEOUT)
        deployed = [model for model in config[MODELS_KEY] if model.get("deploy", True)]
        old = deployed[0]
        namespace, new_name = old["namespace"], f"{old['name']}-renamed"
        old_live = inference_service(kserve_cluster, namespace, old["name"])
        assert old_live is not None and is_ready(old_live)
        others = {model["name"]: uid_of(kserve_cluster, model) for model in deployed[1:]}

        renamed = copy.deepcopy(config)
        for model in renamed[MODELS_KEY]:
            if model["name"] == old["name"] and model["namespace"] == namespace:
                model["name"] = new_name
                model["renamedFrom"] = {"name": old["name"], "namespace": namespace}
        set_config(project, renamed)
        preview = json.loads(project.run("preview", "--json", stack=STACK).stdout)

        new_key, old_key = f"{namespace}/{new_name}", f"{namespace}/{old['name']}"
        changed = {step["urn"]: step for step in preview["steps"] if step["op"] != "same"}
        # One change: the renamed model's InferenceService, replaced because metadata.name changed. The aliases carry
        # the old identity over, so the component under the new name is the same resource (no step) and nothing
        # under the old name is deleted.
        assert [(urn.rpartition("::")[2], step["op"]) for urn, step in changed.items()] == [(new_key, "replace")], (
            changed
        )
        (step,) = changed.values()
        assert step["newState"]["type"] == ISVC_TYPE
        assert step["replaceReasons"] == ["metadata.name"], step["replaceReasons"]
        summary = preview["changeSummary"]
        assert set(summary) == {"same", "replace"} and summary["replace"] == 1, summary

        # Applied: the state holds the model (component and InferenceService) under the new name only; on the
        # cluster the new InferenceService is Ready (the provider waited for it before deleting the old one) and the
        # old one is gone.
        project.run("up", "--yes", "--skip-preview", stack=STACK, timeout=UP_TIMEOUT)
        urns = [resource["urn"] for resource in state_resources(project)]
        assert sorted(urn.split("::")[-2].rpartition("$")[2] for urn in urns if urn.endswith(f"::{new_key}")) == sorted(
            [COMPONENT_TYPE, ISVC_TYPE]
        ), urns
        assert not [urn for urn in urns if urn.endswith(f"::{old_key}")], urns
        new_live = inference_service(kserve_cluster, namespace, new_name)
        assert new_live is not None and is_ready(new_live)
        assert inference_service(kserve_cluster, namespace, old["name"]) is None
        # The other models were left alone: the same objects (uid) as before the rename.
        assert {model["name"]: uid_of(kserve_cluster, model) for model in deployed[1:]} == others
        project.run("destroy", "--yes", "--skip-preview", stack=STACK)
        assert inference_service(kserve_cluster, namespace, new_name) is None
        assert state_resources(project) == []
    except BaseException:
        destroy_leftovers(project, STACK)
        raise
