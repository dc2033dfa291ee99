"""Secure defaults: every predictor and runtime pod runs non-root, without privilege escalation, with every
capability dropped and the RuntimeDefault seccomp profile; no ServiceAccount token unless a model asks for one;
no RBAC with wildcards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from offline.manifests import kubernetes_object
from tests.conftest import STACKS

MODEL = {"name": "m", "namespace": "team-a", "format": "sklearn", "storageUri": "gs://bkt/m"}
CUSTOM = {"name": "c", "namespace": "team-a", "image": "reg/img:1.0"}


def objects(run) -> list[dict[str, Any]]:
    return [obj for r in run.resources if (obj := kubernetes_object(r)) is not None]


def predictors(isvc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield isvc["spec"]["predictor"]
    for canary in isvc["spec"].get("canary", []):
        yield canary["predictor"]


def containers(predictor: dict[str, Any]) -> list[dict[str, Any]]:
    return [predictor["model"]] if "model" in predictor else predictor["containers"]


def assert_hardened(container: dict[str, Any]) -> None:
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False and context["privileged"] is False
    assert context["runAsNonRoot"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_predictor_of_every_stack_is_hardened(run_stack, stack: str) -> None:
    isvcs = [obj for obj in objects(run_stack(stack)) if obj["kind"] == "InferenceService"]
    assert isvcs
    for isvc in isvcs:
        for predictor in predictors(isvc):
            assert predictor["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
            assert predictor["automountServiceAccountToken"] is False
            for container in containers(predictor):
                assert_hardened(container)


def test_a_model_may_ask_for_its_service_account_token(run_config) -> None:
    run = run_config({"models": [{**MODEL, "automountServiceAccountToken": True}]})
    (isvc,) = [obj for obj in objects(run) if obj["kind"] == "InferenceService"]
    assert isvc["spec"]["predictor"]["automountServiceAccountToken"] is True


def test_custom_runtimes_are_hardened(run_config) -> None:
    runtime = {
        "name": "custom-mlserver",
        "image": "reg/custom-mlserver:1.0",
        "supportedModelFormats": [{"name": "custom", "version": "1", "autoSelect": False}],
    }
    run = run_config({"runtimes": [runtime, {**runtime, "namespace": "team-a"}], "models": [MODEL]})
    found = [obj for obj in objects(run) if obj["kind"] in ("ServingRuntime", "ClusterServingRuntime")]
    assert len(found) == 2
    for obj in found:
        for container in obj["spec"]["containers"]:
            assert_hardened(container)


@pytest.mark.parametrize("stack", STACKS)
def test_service_accounts_mount_no_token_and_no_rbac_wildcards(run_stack, stack: str) -> None:
    for obj in objects(run_stack(stack)):
        if obj["kind"] == "ServiceAccount":
            assert obj["automountServiceAccountToken"] is False, obj["metadata"]
        if obj["kind"] in ("Role", "ClusterRole"):
            for rule in obj.get("rules", []):
                for field in ("apiGroups", "resources", "verbs"):
                    assert "*" not in rule.get(field, []), (obj["metadata"], rule)
