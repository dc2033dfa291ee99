"""Issue 11 item 2 (rename, repeat and destroy), through the real Pulumi CLI, engine and Kubernetes provider.

The stack is the committed `local` stack's models-only form written with `kubernetes:renderYamlToDirectory`: the
provider writes each object to files instead of a cluster, so `pulumi up` and `pulumi destroy` really run (without a
kubelet no InferenceService turns Ready on the loopback cluster, and the program waits for Ready).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from e2e.pulumi_cli import PulumiProject
from tests.end_to_end.stacks import PROJECT, RENDER_DIR_KEY, committed_config, models_only, secret_test_value

STACK = "local"
MODELS_KEY = f"{PROJECT}:models"
ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
COMPONENT_TYPE = "kserve-platform:models:InferenceService"


def rendered_stack(
    pulumi_project: Callable[..., PulumiProject], render_dir: Path
) -> tuple[PulumiProject, dict[str, Any]]:
    plain, secret_keys = committed_config(STACK)
    config = models_only(plain)
    config[RENDER_DIR_KEY] = str(render_dir)
    project = pulumi_project()
    project.new_stack(STACK, config, secrets={key: secret_test_value(key) for key in secret_keys})
    return project, config


def set_config(project: PulumiProject, config: dict[str, Any]) -> None:
    stack_file = project.workdir / f"Pulumi.{STACK}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    # Keep the secrets `pulumi config set --secret` wrote; replace the plain values.
    document["config"] = {
        **{key: value for key, value in document["config"].items() if isinstance(value, dict) and "secure" in value},
        **config,
    }
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))


def test_rename_replaces_only_the_renamed_model(pulumi_project: Callable[..., PulumiProject], tmp_path: Path) -> None:
    project, config = rendered_stack(pulumi_project, tmp_path / "render")
    project.run("up", "--yes", "--skip-preview", stack=STACK)
    deployed = [model for model in config[MODELS_KEY] if model.get("deploy", True)]
    old = deployed[0]
    new_name = f"{old['name']}-renamed"

    renamed = copy.deepcopy(config)
    for model in renamed[MODELS_KEY]:
        if model["name"] == old["name"] and model["namespace"] == old["namespace"]:
            model["name"] = new_name
            model["renamedFrom"] = {"name": old["name"], "namespace": old["namespace"]}
    set_config(project, renamed)
    preview = json.loads(project.run("preview", "--json", stack=STACK).stdout)

    new_key, old_key = f"{old['namespace']}/{new_name}", f"{old['namespace']}/{old['name']}"
    changed = {step["urn"]: step for step in preview["steps"] if step["op"] != "same"}
    # One change: the renamed model's InferenceService, replaced because metadata.name changed. The aliases carry
    # the old identity over, so the component under the new name is the same resource (no step) and nothing under
    # the old name is deleted.
    assert [(urn.rpartition("::")[2], step["op"]) for urn, step in changed.items()] == [(new_key, "replace")], changed
    (step,) = changed.values()
    assert step["newState"]["type"] == ISVC_TYPE
    assert step["replaceReasons"] == ["metadata.name"], step["replaceReasons"]
    assert not any(urn.endswith(f"::{old_key}") for urn in changed), changed
    summary = preview["changeSummary"]
    assert set(summary) == {"same", "replace"} and summary["replace"] == 1, summary

    # Applied: the state holds the model (component and InferenceService) under the new name only, and the
    # provider rewrote its file (create-before-delete of the same resource).
    project.run("up", "--yes", "--skip-preview", stack=STACK)
    urns = [resource["urn"] for resource in state_resources(project)]
    assert sorted(urn.split("::")[-2].rpartition("$")[2] for urn in urns if urn.endswith(f"::{new_key}")) == sorted(
        [COMPONENT_TYPE, ISVC_TYPE]
    ), urns
    assert not [urn for urn in urns if urn.endswith(f"::{old_key}")], urns
    rendered = {doc["metadata"]["name"] for doc in rendered_inference_services(tmp_path / "render")}
    assert new_name in rendered and old["name"] not in rendered, rendered


def state_resources(project: PulumiProject) -> list[dict[str, Any]]:
    return json.loads(project.run("stack", "export", stack=STACK).stdout)["deployment"].get("resources") or []


def rendered_inference_services(render_dir: Path) -> list[dict[str, Any]]:
    documents = [yaml.safe_load(path.read_text()) for path in sorted(render_dir.glob("[01]-*/*.yaml"))]
    return [doc for doc in documents if doc and doc.get("kind") == "InferenceService"]


def test_second_up_changes_nothing_and_destroy_succeeds(
    pulumi_project: Callable[..., PulumiProject], tmp_path: Path
) -> None:
    render_dir = tmp_path / "render"
    project, _ = rendered_stack(pulumi_project, render_dir)
    project.run("up", "--yes", "--skip-preview", stack=STACK)
    written = sorted(render_dir.glob("[01]-*/*.yaml"))
    assert written, "the first up wrote no object"
    # `--expect-no-changes` makes the CLI fail when the update would change anything.
    project.run("up", "--yes", "--expect-no-changes", stack=STACK)
    project.run("preview", "--expect-no-changes", stack=STACK)

    project.run("destroy", "--yes", stack=STACK)
    resources = state_resources(project)
    assert resources == [], [resource["urn"] for resource in resources]
    # The provider deletes each object's file on destroy.
    assert not sorted(render_dir.glob("[01]-*/*.yaml")), sorted(render_dir.glob("[01]-*/*.yaml"))
