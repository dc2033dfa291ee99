"""Readiness (waitFor + bounded timeouts, URL outputs) and renames kept as the same Pulumi resource via aliases."""

from __future__ import annotations

import pytest
from model_helpers import config_errors, model

from config.kserve import duration_seconds
from offline.snapshot import snapshot, unsafe_changes

ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
COMPONENT_TYPE = "kserve-platform:models:InferenceService"


def test_wait_for_ready_with_stack_default_and_per_model_timeout(run_config) -> None:
    run = run_config(
        {"modelDefaults": {"readinessTimeout": "20m"}, "models": [model(), model(name="slow", readinessTimeout="1h")]}
    )
    by_name = {r.name: r for r in run.by_type(ISVC_TYPE)}
    assert by_name["models/iris"].custom_timeouts == {"create": "20m", "update": "20m"}
    assert by_name["models/slow"].custom_timeouts == {"create": "1h", "update": "1h"}
    for resource in by_name.values():
        assert resource.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


def test_default_readiness_timeout(run_config) -> None:
    (resource,) = run_config({"models": [model()]}).by_type(ISVC_TYPE)
    assert resource.custom_timeouts == {"create": "15m", "update": "15m"}


def test_readiness_timeout_must_be_a_duration(run_config) -> None:
    errors = config_errors(
        run_config, {"modelDefaults": {"readinessTimeout": "soon"}, "models": [model(readinessTimeout="10 min")]}
    )
    assert "is not a duration" in errors["modelDefaults.readinessTimeout"]
    assert "not a duration" in errors["models[0].readinessTimeout"]


@pytest.mark.parametrize(("duration", "seconds"), [("90s", 90), ("10m", 600), ("1h30m", 5400), ("2h5s", 7205)])
def test_durations_count_in_seconds_as_pulumi_and_helm_do(duration: str, seconds: int) -> None:
    assert duration_seconds(duration) == seconds


@pytest.mark.parametrize("duration", ["", "10", "1d", "m5"])
def test_a_malformed_duration_has_no_seconds(duration: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        duration_seconds(duration)


def test_outputs_expose_the_model_urls(run_config) -> None:
    run = run_config(
        {"models": [model(), {"name": "custom", "namespace": "models", "image": "srv:1.0.0", "modelName": "m"}]}
    )
    iris = run.outputs["models"]["models/iris"]
    assert iris["url"] == "http://iris-predictor.models.svc.cluster.local"
    assert iris["inferenceUrl"] == "http://iris-predictor.models.svc.cluster.local/v2/models/iris/infer"
    assert run.outputs["models"]["models/custom"]["inferenceUrl"].endswith("/v2/models/m/infer")


def test_rename_keeps_identity_through_aliases(run_config) -> None:
    entry = model(name="iris-v2", namespace="models-b", renamedFrom={"name": "iris", "namespace": "models"})
    run = run_config({"models": [entry]})
    (component,) = run.by_type(COMPONENT_TYPE)
    (isvc,) = run.by_type(ISVC_TYPE)
    assert component.name == "models-b/iris-v2"
    assert component.aliases == [{"name": "models/iris"}]
    assert isvc.aliases == [{"name": "models/iris"}]
    # A replacement, not an in-place rename: the object gets its new name and namespace, created before the old
    # one is deleted (the provider's default for a changed name).
    assert isvc.inputs["metadata"]["name"] == "iris-v2" and isvc.inputs["metadata"]["namespace"] == "models-b"
    assert isvc.delete_before_replace is False


def test_unrenamed_models_have_no_aliases(run_stack) -> None:
    run = run_stack("prod")
    assert all(r.aliases == [] for r in run.by_type(ISVC_TYPE))
    assert all(r.protect for r in run.by_type(ISVC_TYPE))


def test_rename_errors(run_config) -> None:
    errors = config_errors(
        run_config,
        {
            "models": [
                model(renamedFrom={"name": "iris", "namespace": "models"}),
                model(name="b", renamedFrom={"name": "c", "namespace": "models"}),
                model(name="c"),
                model(name="d", renamedFrom={"name": "old", "namespace": "models"}),
                model(name="e", renamedFrom={"name": "old", "namespace": "models"}),
            ]
        },
    )
    assert "names this model itself" in errors["models[0].renamedFrom"]
    assert "still declared" in errors["models[1].renamedFrom"]
    assert "already claimed by models[3]" in errors["models[4].renamedFrom"]


def test_renamed_from_passes_the_change_safety_check_and_a_bare_rename_does_not(run_config) -> None:
    values = {"kserve": {"existingNamespaces": ["models", "models-b"]}}
    before = snapshot(run_config({**values, "models": [model()]}))
    moved = model(name="iris-v2", namespace="models-b")
    bare = unsafe_changes(before, run_config({**values, "models": [moved]}))
    assert any(problem.startswith("DROPPED") for problem in bare)
    aliased = {**moved, "renamedFrom": {"name": "iris", "namespace": "models"}}
    assert unsafe_changes(before, run_config({**values, "models": [aliased]})) == []
