"""The whole program under mocks: what each stack registers, checked against the seed and the CRD schemas."""

from __future__ import annotations

import pytest

from components.inference_service import inference_service_manifest
from config import ConfigError, parse_stack_config
from offline.manifests import kubernetes_object
from offline.program import ProgramRun
from tests.conftest import STACKS, committed_config, committed_models, model_namespace_resources
from tests.schemas import has_schema, require_shared, schema_errors

ISVC_TYPE = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
# The predictor's implementation keys: KServe's webhook admits exactly one.
IMPLEMENTATIONS = {
    "model",
    "containers",
    "sklearn",
    "xgboost",
    "lightgbm",
    "pmml",
    "tensorflow",
    "pytorch",
    "triton",
    "onnx",
    "huggingface",
    "paddle",
}
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"


def isvcs(run: ProgramRun) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: kubernetes_object(r) for r in run.by_type(ISVC_TYPE)}


def test_dev_seed_builtin_runtime_model(run_fixture_stack) -> None:
    isvc = isvcs(run_fixture_stack("dev"))["my-model"]
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1" and isvc["kind"] == "InferenceService"
    assert isvc["metadata"]["name"] == "my-model"
    predictor = isvc["spec"]["predictor"]
    assert set(predictor) & IMPLEMENTATIONS == {"model"}, "exactly one predictor implementation"
    assert predictor["model"]["modelFormat"] == {"name": "sklearn"}
    assert predictor["model"]["protocolVersion"] == "v2"
    assert predictor["model"]["storageUri"] == "gs://seldon-models/sklearn/iris"


def test_dev_seed_custom_mlserver_image(run_fixture_stack) -> None:
    isvc = isvcs(run_fixture_stack("dev"))["custom-model"]
    predictor = isvc["spec"]["predictor"]
    assert set(predictor) & IMPLEMENTATIONS == {"containers"}
    (container,) = predictor["containers"]
    assert container["name"] == "kserve-container"
    assert container["image"] == "registry.example.com:5000/ml/my-custom-server:0.1.0"
    assert {"name": "PROTOCOL", "value": "v2"} in container["env"]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]


def test_dev_covers_both_mlserver_runtimes_of_the_seed(run_fixture_stack) -> None:
    formats = {
        isvc["spec"]["predictor"]["model"]["modelFormat"]["name"]
        for isvc in isvcs(run_fixture_stack("dev")).values()
        if "model" in isvc["spec"]["predictor"]
    }
    assert {"sklearn", "xgboost"} <= formats


def test_custom_image_protocol_defaults_to_v2_and_port_to_8080(run_config) -> None:
    run = run_config({"models": [{"name": "c", "namespace": "ns", "image": "reg/img:1.0"}]})
    (container,) = isvcs(run)["c"]["spec"]["predictor"]["containers"]
    assert container["env"] == [{"name": "PROTOCOL", "value": "v2"}]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]


def test_custom_image_keeps_user_protocol_and_port(run_config) -> None:
    run = run_config(
        {"models": [{"name": "c", "namespace": "ns", "image": "reg/img:1.0", "port": 9090, "env": {"PROTOCOL": "v1"}}]}
    )
    (container,) = isvcs(run)["c"]["spec"]["predictor"]["containers"]
    assert container["env"] == [{"name": "PROTOCOL", "value": "v1"}]
    assert container["ports"] == [{"containerPort": 9090, "protocol": "TCP"}]


def test_custom_image_with_storage_uri_triggers_the_storage_initializer(run_config) -> None:
    model = {"name": "c", "namespace": "ns", "image": "reg/img:1.0", "storageUri": "s3://bucket/model"}
    (container,) = isvcs(run_config({"models": [model]}))["c"]["spec"]["predictor"]["containers"]
    assert {"name": "STORAGE_URI", "value": "s3://bucket/model"} in container["env"]


def test_every_stack_renders_schema_valid_kserve_objects(run_stack) -> None:
    require_shared()
    for stack in STACKS:
        run = run_stack(stack)
        checked = 0
        for resource in run.resources:
            obj = kubernetes_object(resource)
            if obj is None or not has_schema(obj):
                continue
            assert schema_errors(obj) == [], f"{stack}: {resource.urn}"
            checked += 1
        assert checked >= len(run.by_type(ISVC_TYPE)) > 0, stack


def test_schema_check_rejects_unknown_and_mistyped_fields() -> None:
    # Guards the guard: the strict validator must fail on what the API server would refuse.
    require_shared()
    model = parse_stack_config(
        {"models": [{"name": "m", "namespace": "ns", "format": "sklearn", "storageUri": "gs://b-b/m"}]}
    ).models[0]
    good = inference_service_manifest(model, "Standard")
    assert schema_errors(good) == []
    typo = {**good, "spec": {"predictor": {**good["spec"]["predictor"], "minReplica": 1}}}
    assert any("minReplica" in error for error in schema_errors(typo))
    wrong_type = {**good, "spec": {"predictor": {**good["spec"]["predictor"], "minReplicas": "one"}}}
    assert any("minReplicas" in error for error in schema_errors(wrong_type))


def test_no_duplicate_urns_in_any_stack(run_stack) -> None:
    for stack in STACKS:
        run = run_stack(stack)
        assert run.duplicate_urns() == [], stack
        assert len(run.resources) > 0


def test_components_own_their_children(run_stack) -> None:
    run = run_stack("dev")
    by_urn = run.by_urn()
    for resource in run.by_type(ISVC_TYPE):
        assert by_urn[resource.parent].type == "kserve-platform:models:InferenceService"
    for resource in model_namespace_resources(run, NAMESPACE_TYPE):
        assert by_urn[resource.parent].type in (
            "kserve-platform:models:ModelNamespace",
            "kserve-platform:install:KServeInstall",
        )


def test_namespaces_are_created_before_the_models_in_them(run_stack) -> None:
    run = run_stack("dev")
    namespaces = {r.inputs["metadata"]["name"]: r.urn for r in model_namespace_resources(run, NAMESPACE_TYPE)}
    # Whatever models the dev stack declares: one namespace per model namespace, created before its models.
    assert set(namespaces) == set(committed_config("dev").model_namespaces)
    for resource in run.by_type(ISVC_TYPE):
        assert namespaces[resource.inputs["metadata"]["namespace"]] in resource.dependencies


def test_seed_dev_stack_creates_exactly_its_one_namespace(run_fixture_stack) -> None:
    run = run_fixture_stack("dev")
    assert [r.inputs["metadata"]["name"] for r in model_namespace_resources(run, NAMESPACE_TYPE)] == ["models-dev"]


def test_existing_namespaces_are_used_not_created(run_config) -> None:
    run = run_config(
        {
            "kserve": {"existingNamespaces": ["shared-ml"]},
            "models": [
                {"name": "a", "namespace": "shared-ml", "format": "sklearn", "storageUri": "gs://bkt/a"},
                {"name": "b", "namespace": "team-b", "format": "sklearn", "storageUri": "gs://bkt/b"},
            ],
        }
    )
    assert [r.inputs["metadata"]["name"] for r in model_namespace_resources(run, NAMESPACE_TYPE)] == ["team-b"]
    assert {r.inputs["metadata"]["namespace"] for r in run.by_type(ISVC_TYPE)} == {"shared-ml", "team-b"}


def test_outputs_name_every_model_of_the_committed_dev_stack(run_stack) -> None:
    outputs = run_stack("dev").outputs["models"]
    models = committed_models("dev")
    assert set(outputs) == {f"{model.namespace}/{model.name}" for model in models}
    for model in models:
        entry = outputs[f"{model.namespace}/{model.name}"]
        assert (entry["name"], entry["namespace"]) == (model.name, model.namespace)
        assert entry["inferenceUrl"] == entry["url"] + entry["inferencePath"]


def test_outputs_name_namespace_and_v2_path_per_model(run_fixture_stack) -> None:
    outputs = run_fixture_stack("dev").outputs["models"]
    assert outputs["models-dev/my-model"] == {
        "name": "my-model",
        "namespace": "models-dev",
        "inferencePath": "/v2/models/my-model/infer",
        "url": "http://my-model-predictor.models-dev.svc.cluster.local",
        "inferenceUrl": "http://my-model-predictor.models-dev.svc.cluster.local/v2/models/my-model/infer",
    }
    assert set(outputs) == {"models-dev/my-model", "models-dev/xgboost-iris"}  # custom-model: `deploy: false`


def test_deployment_mode_is_set_on_every_inference_service(run_stack) -> None:
    for isvc in isvcs(run_stack("dev")).values():
        assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"


def test_prod_protects_every_resource_and_dev_does_not(run_stack) -> None:
    prod = run_stack("prod")
    assert all(r.protect for r in prod.resources if r.custom)
    # Nothing in dev: KServe's CRDs are retained (not protected), so `pulumi destroy` goes through (issue 10).
    assert [r.name for r in run_stack("dev").resources if r.protect] == []


def test_environments_differ_like_real_ones(run_stack) -> None:
    def replicas(stack: str) -> list[int]:
        return [isvc["spec"]["predictor"].get("minReplicas", 1) for isvc in isvcs(run_stack(stack)).values()]

    assert min(replicas("prod")) >= 2 and min(replicas("staging")) >= 2
    namespaces = {
        stack: {r.inputs["metadata"]["name"] for r in model_namespace_resources(run_stack(stack), NAMESPACE_TYPE)}
        for stack in STACKS
    }
    assert len({frozenset(ns) for ns in namespaces.values()}) == len(STACKS), "each stack has its own namespaces"
    for isvc in isvcs(run_stack("prod")).values():
        container = isvc["spec"]["predictor"].get("model") or isvc["spec"]["predictor"]["containers"][0]
        assert container["resources"]["requests"] and container["resources"]["limits"]


@pytest.mark.parametrize(
    "values",
    [
        {"models": [{"name": "Bad", "namespace": "ns", "format": "sklearn", "storageUri": "gs://bkt/m"}]},
        {"models": "not-a-list"},
        {"modelz": []},
        {
            "models": [
                {"name": "good", "namespace": "ns", "format": "sklearn", "storageUri": "gs://bkt/m"},
                {"name": "bad", "namespace": "ns", "format": "sklearn", "storageUri": "ftp://x"},
            ]
        },
    ],
)
def test_invalid_config_registers_nothing(run_config, values) -> None:
    with pytest.raises(ConfigError) as caught:
        run_config(values)
    assert caught.value.registered_before_failure == []  # type: ignore[attr-defined]


def test_not_json_config_value_is_a_type_error_naming_the_key(run_config) -> None:
    with pytest.raises(ConfigError) as caught:
        run_config({"models": "{broken"})
    assert [issue.path for issue in caught.value.issues] == ["models"]
