"""Change safety: no change may rename, replace or drop a live object without a deliberate, reviewed step."""

from __future__ import annotations

import json

import pytest

from offline.snapshot import committed_stacks, snapshot, snapshot_path, unsafe_changes
from tests.conftest import STACKS

HOW_TO = (
    "\nIf this is intended, accept it deliberately: run `python -m cli snapshot --update --stack {stack}` and commit the"
    " snapshot with the change, so reviewers see which live objects `pulumi up` will delete or replace."
    "\nIf not, avoid it: keep the model's name and namespace, or declare where it came from (aliases) so Pulumi"
    " plans an in-place update or a create-before-delete replacement."
)


def test_every_stack_has_a_snapshot() -> None:
    assert set(committed_stacks()) == set(STACKS)
    for stack in STACKS:
        assert snapshot_path(stack).is_file(), f"no snapshot for {stack}: run python -m cli snapshot --update"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_keeps_every_live_object(run_stack, stack: str) -> None:
    committed = json.loads(snapshot_path(stack).read_text())
    problems = unsafe_changes(committed, run_stack(stack))
    assert not problems, "\n".join(problems) + HOW_TO.format(stack=stack)


MODEL = {"name": "fraud", "namespace": "risk", "format": "sklearn", "storageUri": "gs://bkt/fraud"}


def test_renaming_a_model_is_caught(run_config) -> None:
    before = snapshot(run_config({"models": [MODEL]}))
    problems = unsafe_changes(before, run_config({"models": [{**MODEL, "name": "fraud-v2"}]}))
    assert any(p.startswith("DROPPED") and "InferenceService risk/fraud" in p for p in problems)


def test_moving_a_model_to_another_namespace_is_caught(run_config) -> None:
    before = snapshot(run_config({"models": [MODEL]}))
    problems = unsafe_changes(before, run_config({"models": [{**MODEL, "namespace": "risk-2"}]}))
    assert any("InferenceService risk/fraud" in p for p in problems)
    assert any("Namespace risk" in p for p in problems), "the emptied namespace would be deleted too"


def test_switching_deployment_mode_is_a_replacement(run_config) -> None:
    before = snapshot(run_config({"models": [MODEL]}))
    problems = unsafe_changes(before, run_config({"kserve": {"deploymentMode": "Knative"}, "models": [MODEL]}))
    assert any(p.startswith("REPLACED") and "deploymentMode: 'Standard' -> 'Knative'" in p for p in problems)


def test_adding_a_model_and_changing_fields_in_place_is_safe(run_config) -> None:
    before = snapshot(run_config({"models": [MODEL]}))
    after = run_config({"models": [{**MODEL, "minReplicas": 2}, {**MODEL, "name": "new-model"}]})
    assert unsafe_changes(before, after) == []
