"""Per-model settings as they reach the InferenceService, and KServe's admission rules (KSERVE.md) each broken
by a config that gets a named error at preview."""

from __future__ import annotations

import pytest
from model_helpers import CUSTOM, config_errors, model, objects, only
from schemas import schema_errors

STANDARD = {"deploymentMode": "Standard"}
KNATIVE = {"deploymentMode": "Knative"}


def isvc_for(run_config, entry: dict, kserve: dict | None = None) -> dict:
    run = run_config({"kserve": kserve or STANDARD, "models": [entry]})
    obj = only(run, "InferenceService")
    assert schema_errors(obj) == []
    return obj


def test_scheduling_gpu_env_args(run_config) -> None:
    entry = model(
        resources={
            "requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
            "limits": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"},
        },
        nodeSelector={"cloud.google.com/gke-accelerator": "nvidia-l4"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}
                            ]
                        }
                    ]
                }
            },
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}
                ]
            },
        },
        imagePullSecrets=["registry-pull"],
        env={"MLSERVER_DEBUG": "false", "LOG_LEVEL": "info"},
        args=["--verbose"],
    )
    predictor = isvc_for(run_config, entry)["spec"]["predictor"]
    assert predictor["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert predictor["model"]["env"] == [
        {"name": "MLSERVER_DEBUG", "value": "false"},
        {"name": "LOG_LEVEL", "value": "info"},
    ]
    assert predictor["model"]["args"] == ["--verbose"]
    assert predictor["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert predictor["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert predictor["imagePullSecrets"] == [{"name": "registry-pull"}]
    node_terms = predictor["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert node_terms["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["a"]
    anti = predictor["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti == {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}


def test_custom_image_settings_reach_the_container(run_config) -> None:
    entry = {
        **CUSTOM,
        "env": {"PROTOCOL": "v2"},
        "args": ["--workers", "2"],
        "resources": {"requests": {"amd.com/gpu": "2"}, "limits": {"amd.com/gpu": "2"}},
        "imagePullSecrets": ["registry-pull"],
    }
    predictor = isvc_for(run_config, entry)["spec"]["predictor"]
    (container,) = predictor["containers"]
    assert container["args"] == ["--workers", "2"]
    # KServe's webhook fills the cpu/memory the entry leaves out (CustomPredictor.Default); the program sends them.
    assert container["resources"]["limits"] == {"amd.com/gpu": "2", "cpu": "1", "memory": "2Gi"}
    assert predictor["imagePullSecrets"] == [{"name": "registry-pull"}]


@pytest.mark.parametrize(
    ("fields", "path", "fragment"),
    [
        ({"resources": {"requests": {"nvidia.com/gpu": "1"}}}, "models[0].resources", "needs limits.nvidia.com/gpu"),
        (
            {"resources": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}}},
            "models[0].resources",
            "cannot be overcommitted",
        ),
        ({"resources": {"limits": {"nvidia.com/gpu": "500m"}}}, "models[0].resources", "whole number"),
        ({"resources": {"limits": {"cpu": "two"}}}, "models[0].resources.limits.cpu", "not a Kubernetes quantity"),
        ({"affinity": {"nodeAffinity": {"required": {}}}}, "models[0].affinity.nodeAffinity.required", "unknown key"),
        (
            {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}}]}}},
            "models[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
            "required",
        ),
        ({"imagePullSecrets": ["Registry_Pull"]}, "models[0].imagePullSecrets[0]", "not a valid Kubernetes name"),
        ({"tolerations": [{"operator": "Equal", "value": "x"}]}, "models[0].tolerations[0]", "without key"),
    ],
)
def test_scheduling_and_resource_errors(run_config, fields: dict, path: str, fragment: str) -> None:
    errors = config_errors(run_config, {"models": [model(**fields)]})
    assert fragment in errors[path]


def test_standard_mode_autoscaling_with_hpa(run_config) -> None:
    entry = model(minReplicas=2, maxReplicas=8, autoscalerClass="hpa", scaleMetric="cpu", scaleTarget=70)
    obj = isvc_for(run_config, entry)
    predictor = obj["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 8)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("cpu", 70)
    assert obj["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "hpa"


def test_standard_mode_keda_may_scale_to_zero(run_config) -> None:
    obj = isvc_for(run_config, model(minReplicas=0, maxReplicas=3, autoscalerClass="keda"))
    assert obj["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "keda"
    assert obj["spec"]["predictor"]["minReplicas"] == 0


def test_knative_mode_autoscaling_on_concurrency(run_config) -> None:
    obj = isvc_for(run_config, model(minReplicas=0, scaleMetric="concurrency", scaleTarget=10), KNATIVE)
    assert obj["spec"]["predictor"]["scaleMetric"] == "concurrency"
    assert "serving.kserve.io/autoscalerClass" not in obj["metadata"]["annotations"]


@pytest.mark.parametrize(
    ("kserve", "fields", "path", "fragment"),
    [
        # Rule 5: replicas.
        (STANDARD, {"minReplicas": 5, "maxReplicas": 2}, "models[0].minReplicas", "must not exceed"),
        (STANDARD, {"minReplicas": -1}, "models[0].minReplicas", "greater than or equal to 0"),
        # Rule 6: autoscaler class and metrics per mode.
        (STANDARD, {"autoscalerClass": "kpa"}, "models[0].autoscalerClass", "'hpa', 'keda', 'external' or 'none'"),
        (STANDARD, {"scaleMetric": "concurrency"}, "models[0].scaleMetric", "needs Knative mode"),
        (STANDARD, {"scaleMetric": "cpu", "scaleTarget": 150}, "models[0].scaleTarget", "1 to 100"),
        (STANDARD, {"minReplicas": 0}, "models[0].minReplicas", "cannot scale to zero"),
        (STANDARD, {"autoscalerClass": "keda", "scaleMetric": "cpu"}, "models[0].scaleMetric", "keda"),
        (STANDARD, {"autoscalerClass": "none", "scaleTarget": 5}, "models[0].scaleTarget", "no effect"),
        (STANDARD, {"autoscalerClass": "external", "scaleMetric": "memory"}, "models[0].scaleMetric", "no effect"),
        (KNATIVE, {"scaleMetric": "cpu"}, "models[0].scaleMetric", "concurrency or rps"),
        (KNATIVE, {"autoscalerClass": "hpa"}, "models[0].autoscalerClass", "Standard mode"),
        (STANDARD, {"scaleMetric": "qps"}, "models[0].scaleMetric", "allowed"),
        (STANDARD, {"scaleTarget": 0}, "models[0].scaleTarget", "greater than or equal to 1"),
    ],
)
def test_autoscaling_rules(run_config, kserve: dict, fields: dict, path: str, fragment: str) -> None:
    errors = config_errors(run_config, {"kserve": kserve, "models": [model(**fields)]})
    assert fragment in errors[path], errors


def test_standard_mode_canary_list(run_config) -> None:
    entry = model(
        minReplicas=2,
        canary=[
            {"trafficPercent": 10, "storageUri": "gs://seldon-models/sklearn/iris-v2", "minReplicas": 1},
            {"trafficPercent": 5, "formatVersion": "1", "runtime": "kserve-mlserver"},
        ],
    )
    spec = isvc_for(run_config, entry)["spec"]
    first, second = spec["canary"]
    assert first["trafficPercent"] == 10
    assert first["predictor"]["model"]["name"] == "kserve-container"
    assert first["predictor"]["model"]["storageUri"] == "gs://seldon-models/sklearn/iris-v2"
    assert first["predictor"]["minReplicas"] == 1
    assert second["predictor"]["model"]["modelFormat"] == {"name": "sklearn", "version": "1"}
    assert second["predictor"]["model"]["runtime"] == "kserve-mlserver"
    # The main predictor is unchanged and takes the rest of the traffic.
    assert spec["predictor"]["model"]["storageUri"] == "gs://seldon-models/sklearn/iris"
    assert "canaryTrafficPercent" not in spec["predictor"]


def test_custom_image_canary_changes_the_image(run_config) -> None:
    # KServe runs a canary only beside a stable predictor with a model (validateCanarySpecs): STORAGE_URI here.
    entry = {
        **CUSTOM,
        "storageUri": "gs://seldon-models/sklearn/iris",
        "canary": [{"trafficPercent": 25, "image": "my-custom-server:0.2.0"}],
    }
    spec = isvc_for(run_config, entry)["spec"]
    assert spec["canary"][0]["predictor"]["containers"][0]["image"] == "my-custom-server:0.2.0"
    assert spec["predictor"]["containers"][0]["image"] == "my-custom-server:0.1.0"


def test_knative_canary_traffic_percent(run_config) -> None:
    obj = isvc_for(run_config, model(canaryTrafficPercent=10), KNATIVE)
    assert obj["spec"]["predictor"]["canaryTrafficPercent"] == 10


@pytest.mark.parametrize(
    ("kserve", "fields", "path", "fragment"),
    [
        # Rule 8: canary forms per mode, traffic bounds.
        (STANDARD, {"canaryTrafficPercent": 10}, "models[0].canaryTrafficPercent", "Knative"),
        (KNATIVE, {"canary": [{"trafficPercent": 10, "formatVersion": "1"}]}, "models[0].canary", "Standard"),
        (KNATIVE, {"canaryTrafficPercent": 101}, "models[0].canaryTrafficPercent", "less than or equal to 100"),
        (
            STANDARD,
            {"canary": [{"trafficPercent": 60, "formatVersion": "1"}, {"trafficPercent": 50, "formatVersion": "0"}]},
            "models[0].canary",
            "adds up to 110",
        ),
        (STANDARD, {"canary": [{"trafficPercent": 120}]}, "models[0].canary[0].trafficPercent", "100"),
        (STANDARD, {"canary": [{"trafficPercent": 10}]}, "models[0].canary[0]", "must change something"),
        (STANDARD, {"canary": [{"trafficPercent": 10, "image": "x:1"}]}, "models[0].canary[0].image", "'image'"),
        (
            STANDARD,
            {"canary": [{"trafficPercent": 10, "storageUri": "ftp://x/y"}]},
            "models[0].canary[0].storageUri",
            "scheme",
        ),
        (
            {**STANDARD, "builtinRuntimes": ["mlserver", "xgbserver"]},
            {"canary": [{"trafficPercent": 10, "runtime": "kserve-xgbserver"}]},
            "models[0].canary[0].runtime",
            "does not serve sklearn",
        ),
        (
            STANDARD,
            {"canary": [{"trafficPercent": 10, "storageUr": "gs://a-b/c"}]},
            "models[0].canary[0].storageUr",
            "did you mean",
        ),
    ],
)
def test_rollout_rules(run_config, kserve: dict, fields: dict, path: str, fragment: str) -> None:
    errors = config_errors(run_config, {"kserve": kserve, "models": [model(**fields)]})
    assert fragment in errors[path], errors


@pytest.mark.parametrize(
    ("entry", "path", "fragment"),
    [
        # Rule 1: name and host length.
        (model(name="Iris"), "models[0].name", "not a valid InferenceService name"),
        (model(name="a" * 40, namespace="b" * 20), "models[0].name", "63"),
        # Rule 2: exactly one implementation.
        (model(image="my-custom-server:0.1.0"), "models[0].image", "not both"),
        # Rule 3: PYTHONPATH.
        (model(env={"PYTHONPATH": "/opt"}), "models[0].env", "PYTHONPATH"),
        ({**CUSTOM, "env": [{"name": "PYTHONPATH", "value": "/opt"}]}, "models[0].env", "PYTHONPATH"),
        # Rule 4: custom container PROTOCOL.
        ({**CUSTOM, "env": {"PROTOCOL": "v3"}}, "models[0].env", "PROTOCOL"),
        # Rule 7: storage URI.
        (model(storageUri="file://../models"), "models[0].storageUri", "absolute"),
        (model(storageUri="ftp://host/model"), "models[0].storageUri", "scheme"),
    ],
)
def test_admission_rules_for_models(run_config, entry: dict, path: str, fragment: str) -> None:
    errors = config_errors(run_config, {"models": [entry]})
    assert fragment in errors[path], errors


def test_every_stack_object_is_schema_valid(run_stack) -> None:
    for stack in ("dev", "staging", "prod", "local"):
        run = run_stack(stack)
        assert run.duplicate_urns() == []
        for kind in ("InferenceService", "ServingRuntime", "ClusterServingRuntime"):
            for obj in objects(run, kind):
                assert schema_errors(obj) == [], (stack, obj["metadata"]["name"])
