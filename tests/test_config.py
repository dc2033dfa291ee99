"""Config rules, as plain Python: every bad input names its key path and says what is allowed."""

from __future__ import annotations

from typing import Any

import pytest

from config import ConfigError, StackConfig, parse_stack_config

SKLEARN = {
    "name": "my-model",
    "namespace": "models",
    "format": "sklearn",
    "storageUri": "gs://seldon-models/sklearn/iris",
}
CUSTOM = {"name": "custom-model", "namespace": "models", "image": "my-custom-server:0.1.0"}


def errors_of(values: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    return {issue.path: issue.message for issue in caught.value.issues}


def one_model_errors(**changes: Any) -> dict[str, str]:
    base = dict(CUSTOM if "image" in changes or changes.get("_custom") else SKLEARN)
    changes.pop("_custom", None)
    base.update(changes)
    return errors_of({"models": [{k: v for k, v in base.items() if v is not None}]})


def test_seed_config_parses_with_defaults() -> None:
    stack = parse_stack_config({"models": [SKLEARN, CUSTOM]})
    builtin, custom = stack.models
    assert builtin.protocol == "v2" and builtin.format == "sklearn"
    assert custom.is_custom_image and custom.protocol == "v2" and custom.container_port == 8080
    assert builtin.inference_path == "/v2/models/my-model/infer"
    assert stack.kserve.deployment_mode == "Standard" and stack.kserve.install is True
    assert stack.model_namespaces == ["models"]


def test_empty_config_is_an_install_without_models() -> None:
    assert parse_stack_config({}) == StackConfig()


@pytest.mark.parametrize(
    ("values", "path", "needle"),
    [
        ({"modls": []}, "modls", "did you mean 'models'"),
        ({"models": [{**SKLEARN, "storageURI": "x"}]}, "models[0].storageURI", "did you mean 'storageUri'"),
        ({"kserve": {"deploymentMod": "Standard"}}, "kserve.deploymentMod", "did you mean 'deploymentMode'"),
        ({"models": {"name": "x"}}, "models", "must be a list"),
        ({"models": ["my-model"]}, "models[0]", "must be a mapping"),
        ({"models": [{**SKLEARN, "minReplicas": "two"}]}, "models[0].minReplicas", "integer"),
        ({"models": [{k: v for k, v in SKLEARN.items() if k != "name"}]}, "models[0].name", "required"),
        ({"models": [{k: v for k, v in SKLEARN.items() if k != "namespace"}]}, "models[0].namespace", "required"),
        ({"models": [{**SKLEARN, "format": "pytorch"}]}, "models[0].format", "sklearn"),
        ({"models": [{**SKLEARN, "protocolVersion": "v3"}]}, "models[0].protocolVersion", "'v2'"),
        ({"kserve": {"deploymentMode": "Serverful"}}, "kserve.deploymentMode", "'Standard' or 'Knative'"),
        ({"protect": "maybe"}, "protect", "bool"),
        ({"models": [{**SKLEARN, "name": "My_Model"}]}, "models[0].name", "not a valid InferenceService name"),
        ({"models": [{**SKLEARN, "name": "1model"}]}, "models[0].name", "start with a lower-case letter"),
        ({"models": [{**SKLEARN, "namespace": "Models"}]}, "models[0].namespace", "not a valid Kubernetes name"),
        ({"models": [{**SKLEARN, "namespace": "n" * 64}]}, "models[0].namespace", "at most 63"),
        ({"models": [{**SKLEARN, "name": "m" * 50, "namespace": "models"}]}, "models[0].name", "63-character"),
        ({"models": [{**SKLEARN, "minReplicas": -1}]}, "models[0].minReplicas", "greater than or equal to 0"),
        ({"models": [{**SKLEARN, "maxReplicas": -1}]}, "models[0].maxReplicas", "greater than or equal to 0"),
        ({"models": [{**SKLEARN, "minReplicas": 3, "maxReplicas": 2}]}, "models[0].minReplicas", "must not exceed"),
        ({"models": [{**CUSTOM, "env": {"PROTOCOL": "v3"}}]}, "models[0].env", "PROTOCOL must be one of v1, v2"),
        ({"models": [{**CUSTOM, "env": {"PYTHONPATH": "/x"}}]}, "models[0].env", "PYTHONPATH may not be set"),
        ({"models": [{**SKLEARN, "env": [{"name": "PYTHONPATH", "value": "/x"}]}]}, "models[0].env", "PYTHONPATH"),
        ({"models": [{**SKLEARN, "env": [{"name": "A", "value": "1"}, {"name": "A"}]}]}, "models[0].env", "twice"),
        ({"models": [{**SKLEARN, "env": [{"name": "1 BAD", "value": "1"}]}]}, "models[0].env[0].name", "not a valid"),
        ({"models": [SKLEARN, SKLEARN]}, "models[1].name", "unique per namespace"),
        ({"models": [{**SKLEARN, "image": "x:1"}]}, "models[0].image", "not both"),
        ({"models": [{"name": "m", "namespace": "models"}]}, "models[0]", "set either 'format'"),
        ({"models": [{**SKLEARN, "storageUri": None}]}, "models[0].storageUri", "needs"),
        ({"models": [{k: v for k, v in SKLEARN.items() if k != "storageUri"}]}, "models[0].storageUri", "needs"),
        ({"models": [{**SKLEARN, "port": 9000}]}, "models[0].port", "only to custom images"),
        ({"models": [{**CUSTOM, "format": None, "protocolVersion": "v2"}]}, "models[0].protocolVersion", "PROTOCOL"),
        ({"models": [{**CUSTOM, "runtime": "kserve-mlserver"}]}, "models[0].runtime", "only to built-in"),
        ({"models": [{**CUSTOM, "image": "my-custom-server"}]}, "models[0].image", "no tag"),
        ({"models": [{**CUSTOM, "image": "my-custom-server:latest"}]}, "models[0].image", "latest"),
        ({"models": [{**CUSTOM, "port": 70000}]}, "models[0].port", "less than or equal to 65535"),
        ({"models": [{**SKLEARN, "canaryTrafficPercent": 10}]}, "models[0].canaryTrafficPercent", "Knative"),
        ({"models": [{**SKLEARN, "canaryTrafficPercent": 101}]}, "models[0].canaryTrafficPercent", "100"),
        (
            {"models": [{**SKLEARN, "resources": {"limits": {"cpu": "lots"}}}]},
            "models[0].resources.limits.cpu",
            "quantity",
        ),
        (
            {"models": [{**SKLEARN, "resources": {"requests": {"memory": "2GB"}}}]},
            "models[0].resources.requests.memory",
            "quantity",
        ),
        (
            {"models": [{**SKLEARN, "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]},
            "models[0].resources",
            "must not exceed",
        ),
        (
            {
                "models": [
                    {**SKLEARN, "resources": {"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 2}}}
                ]
            },
            "models[0].resources",
            "cannot be overcommitted",
        ),
        (
            {"models": [{**SKLEARN, "resources": {"request": {}}}]},
            "models[0].resources.request",
            "did you mean 'requests'",
        ),
        (
            {"models": [{**SKLEARN, "tolerations": [{"operator": "Equal", "value": "x"}]}]},
            "models[0].tolerations[0]",
            "Exists",
        ),
        ({"models": [{**SKLEARN, "nodeSelector": {"bad key!": "x"}}]}, "models[0].nodeSelector", "label key"),
        ({"kserve": {"existingNamespaces": ["Bad"]}}, "kserve.existingNamespaces[0]", "not a valid Kubernetes name"),
    ],
)
def test_bad_input_names_its_key(values: dict[str, Any], path: str, needle: str) -> None:
    errors = errors_of(values)
    assert path in errors, f"expected an error at {path}, got {errors}"
    assert needle in errors[path], errors[path]


@pytest.mark.parametrize(
    "uri",
    [
        "gs://seldon-models/sklearn/iris",
        "s3://my-bucket/models/iris",
        "pvc://model-store/iris",
        "file:///mnt/models/iris",
        "https://example.com/models/iris.joblib",
        "http://models.internal/iris",
        "hdfs://namenode/models/iris",
        "webhdfs://namenode/models/iris",
        "oci://registry.example.com/models/iris:1.0",
        "hf://org/model",
        "https://account.blob.core.windows.net/container/iris",
    ],
)
def test_storage_uri_schemes_kserve_fetches(uri: str) -> None:
    parse_stack_config({"models": [{**SKLEARN, "storageUri": uri}]})


@pytest.mark.parametrize(
    ("uri", "needle"),
    [
        ("ftp://host/model", "no scheme"),
        ("seldon-models/sklearn/iris", "no scheme"),
        ("gs://", "names no bucket"),
        ("s3://A_Bucket/x", "not a valid bucket name"),
        ("pvc://claim", "claim and a path"),
        ("file://relative/path", "absolute path"),
        ("gs://bucket/../etc", "'..'"),
        ("", "empty"),
    ],
)
def test_storage_uri_problems(uri: str, needle: str) -> None:
    errors = errors_of({"models": [{**SKLEARN, "storageUri": uri}]})
    assert needle in errors["models[0].storageUri"]


def test_extra_storage_prefix_from_a_cluster_storage_container() -> None:
    values = {"kserve": {"extraStorageUriPrefixes": ["custom://"]}, "models": [{**SKLEARN, "storageUri": "custom://m"}]}
    assert parse_stack_config(values).models[0].storage_uri == "custom://m"


def test_all_errors_are_reported_at_once() -> None:
    errors = errors_of(
        {
            "models": [
                {**SKLEARN, "name": "Bad"},
                {**SKLEARN, "name": "ok", "storageUri": "ftp://x/y"},
                {**CUSTOM, "image": "untagged"},
                {**SKLEARN, "name": "x", "minReplicas": 5, "maxReplicas": 1},
            ],
            "kserve": {"deploymentMode": "Nope"},
            "typo": 1,
        }
    )
    assert set(errors) == {
        "models[0].name",
        "models[1].storageUri",
        "models[2].image",
        "models[3].minReplicas",
        "kserve.deploymentMode",
        "typo",
    }


def test_error_message_lists_paths_in_order() -> None:
    values = {"models": [{**SKLEARN, "name": f"m{i}", "format": "bad"} for i in range(12)]}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)
    paths = [issue.path for issue in caught.value.issues]
    assert paths == [f"models[{i}].format" for i in range(12)]
    assert "12 errors" in str(caught.value) and "nothing was registered" in str(caught.value)


def test_legacy_deployment_mode_names_are_accepted() -> None:
    assert parse_stack_config({"kserve": {"deploymentMode": "RawDeployment"}}).kserve.deployment_mode == "Standard"
    assert parse_stack_config({"kserve": {"deploymentMode": "Serverless"}}).kserve.deployment_mode == "Knative"


def test_env_mapping_and_list_forms_are_equivalent() -> None:
    as_map = parse_stack_config({"models": [{**CUSTOM, "env": {"PROTOCOL": "v2", "WORKERS": 2}}]}).models[0]
    as_list = parse_stack_config(
        {"models": [{**CUSTOM, "env": [{"name": "PROTOCOL", "value": "v2"}, {"name": "WORKERS", "value": "2"}]}]}
    ).models[0]
    assert as_map.env == as_list.env


def test_same_name_in_two_namespaces_is_allowed() -> None:
    stack = parse_stack_config({"models": [SKLEARN, {**SKLEARN, "namespace": "other"}]})
    assert stack.model_namespaces == ["models", "other"]


def test_existing_namespaces_are_not_created() -> None:
    stack = parse_stack_config({"kserve": {"existingNamespaces": ["models"]}, "models": [SKLEARN]})
    assert stack.model_namespaces == []
