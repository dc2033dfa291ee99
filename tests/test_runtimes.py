"""Serving runtimes: the built-in table against KServe's release files, custom (Cluster)ServingRuntimes as
produced, KServe's runtime priority rule (webhook rule 10) and runtime selection (NoSupportingRuntime)."""

from __future__ import annotations

import yaml
from model_helpers import CUSTOM, config_errors, model, objects, only
from schemas import KSERVE_DIR, require_shared, schema_errors

from config.runtimes import BUILTIN_RUNTIMES, DEFAULT_RUNTIME_RESOURCES

RUNTIME = {
    "name": "fraud-mlserver",
    "image": "registry.example.com/fraud-mlserver:1.2.0",
    "supportedModelFormats": [{"name": "fraud-pipeline", "version": "1", "priority": 1}],
}


def test_builtin_runtime_table_matches_kserve_release_files() -> None:
    require_shared()
    upstream = {}
    for path in sorted((KSERVE_DIR / "runtimes").glob("kserve-*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = doc["spec"]
        formats = sorted(
            (f["name"], f.get("version"), f.get("autoSelect", False), f.get("priority"))
            for f in spec["supportedModelFormats"]
        )
        upstream[doc["metadata"]["name"]] = (formats, tuple(spec["protocolVersions"]))
    ours = {
        view.name: (sorted((f.name, f.version, f.auto_select, f.priority) for f in view.formats), view.protocols)
        for view in BUILTIN_RUNTIMES
    }
    assert ours == upstream


def test_cluster_runtime_is_mlserver_shaped_and_schema_valid(run_config) -> None:
    runtime = {
        **RUNTIME,
        "protocolVersions": ["v2", "grpc-v2"],
        "env": {"MLSERVER_PARALLEL_WORKERS": "2"},
        "args": ["--debug"],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
        "imagePullSecrets": ["registry-pull"],
    }
    run = run_config({"runtimes": [runtime], "models": []})
    obj = only(run, "ClusterServingRuntime")
    assert schema_errors(obj) == []
    assert obj["apiVersion"] == "serving.kserve.io/v1alpha1"
    assert "namespace" not in obj["metadata"]
    spec = obj["spec"]
    assert spec["protocolVersions"] == ["v2", "grpc-v2"]
    assert spec["supportedModelFormats"] == [
        {"name": "fraud-pipeline", "version": "1", "autoSelect": True, "priority": 1}
    ]
    assert spec["imagePullSecrets"] == [{"name": "registry-pull"}]
    (container,) = spec["containers"]
    assert container["name"] == "kserve-container"
    assert container["image"] == "registry.example.com/fraud-mlserver:1.2.0"
    assert container["args"] == ["--debug"]
    assert container["env"] == [
        {"name": "MLSERVER_PARALLEL_WORKERS", "value": "2"},
        {"name": "MLSERVER_HTTP_PORT", "value": "8080"},
        {"name": "MLSERVER_GRPC_PORT", "value": "9000"},
    ]
    assert container["resources"] == runtime["resources"]
    assert container["securityContext"]["runAsNonRoot"] is True


def test_namespaced_runtime_shared_by_two_models(run_config) -> None:
    runtime = {**RUNTIME, "namespace": "models"}
    values = {
        "runtimes": [runtime],
        "models": [
            model(name="fraud-a", format="fraud-pipeline", runtime="fraud-mlserver", storageUri="s3://acme-ml/a"),
            model(name="fraud-b", format="fraud-pipeline", storageUri="s3://acme-ml/b"),
        ],
        "publicStorageUriPrefixes": ["s3://acme-ml/"],
    }
    run = run_config(values)
    obj = only(run, "ServingRuntime")
    assert schema_errors(obj) == []
    assert obj["metadata"]["namespace"] == "models"
    assert obj["spec"]["containers"][0]["resources"] == DEFAULT_RUNTIME_RESOURCES
    services = {isvc["metadata"]["name"]: isvc for isvc in objects(run, "InferenceService")}
    assert services["fraud-a"]["spec"]["predictor"]["model"]["runtime"] == "fraud-mlserver"
    assert "runtime" not in services["fraud-b"]["spec"]["predictor"]["model"]
    # Each model is applied after the runtime it may be placed on.
    runtime_urn = next(r.urn for r in run.resources if r.type == "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime")
    for resource in run.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService"):
        assert runtime_urn in resource.dependencies


def test_same_priority_as_builtin_mlserver_is_rejected(run_config) -> None:
    runtime = {**RUNTIME, "supportedModelFormats": [{"name": "sklearn", "version": "1", "priority": 2}]}
    errors = config_errors(run_config, {"runtimes": [runtime]})
    message = errors["runtimes[0].supportedModelFormats[0].priority"]
    assert "kserve-mlserver" in message and "priority 2" in message and "autoSelect: false" in message


def test_two_custom_runtimes_same_priority_in_one_namespace(run_config) -> None:
    first = {**RUNTIME, "namespace": "models"}
    second = {**RUNTIME, "name": "fraud-mlserver-next", "namespace": "models"}
    errors = config_errors(run_config, {"runtimes": [first, second], "models": [model()]})
    assert "runtimes[0]" in errors["runtimes[1].supportedModelFormats[0].priority"]


def test_no_conflict_across_namespaces_other_priority_or_no_autoselect(run_config) -> None:
    runtimes = [
        {**RUNTIME, "namespace": "models"},
        {**RUNTIME, "namespace": "other"},
        {**RUNTIME, "name": "sk-custom", "supportedModelFormats": [{"name": "sklearn", "version": "1", "priority": 3}]},
        {
            **RUNTIME,
            "name": "sk-manual",
            "supportedModelFormats": [{"name": "sklearn", "version": "1", "priority": 2, "autoSelect": False}],
        },
    ]
    models = [model(), model(namespace="other")]
    run = run_config({"runtimes": runtimes, "models": models})
    assert len(objects(run, "ClusterServingRuntime")) == 2
    assert all(schema_errors(obj) == [] for obj in objects(run, "ServingRuntime"))


def test_format_without_runtime_for_its_protocol_is_an_error(run_config) -> None:
    errors = config_errors(run_config, {"models": [model(format="mlflow", protocolVersion="v1")]})
    message = errors["models[0].format"]
    assert "NoSupportingRuntime" in message and "kserve-mlserver (v2)" in message


def test_unknown_format_is_an_error(run_config) -> None:
    errors = config_errors(run_config, {"models": [model(format="onnx")]})
    assert "declare a custom runtime" in errors["models[0].format"]


ALL_BUILTINS = {"builtinRuntimes": ["mlserver", "sklearnserver", "xgbserver", "lgbserver"]}


def test_named_runtime_must_exist_and_support_format(run_config) -> None:
    errors = config_errors(
        run_config,
        {
            "kserve": ALL_BUILTINS,
            "models": [
                model(runtime="kserve-mlservr"),
                model(name="b", runtime="kserve-xgbserver"),
                model(name="c", format="sklearn", protocolVersion="v1", runtime="kserve-mlserver"),
            ],
        },
    )
    assert "did you mean 'kserve-mlserver'" in errors["models[0].runtime"]
    assert "does not serve sklearn over protocol v2" in errors["models[1].runtime"]
    assert "does not serve sklearn over protocol v1" in errors["models[2].runtime"]


def test_sklearn_v1_goes_to_sklearnserver_and_format_version_must_match(run_config) -> None:
    run_config({"kserve": ALL_BUILTINS, "models": [model(protocolVersion="v1"), model(name="b", formatVersion="1.5")]})
    errors = config_errors(run_config, {"kserve": ALL_BUILTINS, "models": [model(formatVersion="2")]})
    assert "sklearn version 2" in errors["models[0].format"]


def test_only_enabled_builtin_runtimes_serve_models(run_config) -> None:
    # kserve.builtinRuntimes defaults to MLServer only: sklearn over v1 needs kserve-sklearnserver enabled.
    errors = config_errors(run_config, {"models": [model(protocolVersion="v1")]})
    assert "kserve-mlserver (v2)" in errors["models[0].format"]
    errors = config_errors(run_config, {"models": [model(runtime="kserve-sklearnserver")]})
    assert "no runtime 'kserve-sklearnserver'" in errors["models[0].runtime"]
    # A custom runtime may reuse a disabled built-in's priority; not an enabled one's.
    runtime = {**RUNTIME, "supportedModelFormats": [{"name": "sklearn", "version": "1", "priority": 1}]}
    run_config({"runtimes": [runtime], "models": [model()]})
    errors = config_errors(run_config, {"kserve": ALL_BUILTINS, "runtimes": [runtime], "models": [model()]})
    assert "kserve-sklearnserver" in errors["runtimes[0].supportedModelFormats[0].priority"]


def test_namespaced_runtime_serves_only_its_namespace(run_config) -> None:
    values = {
        "runtimes": [{**RUNTIME, "namespace": "models"}],
        "models": [model(namespace="other", format="fraud-pipeline", runtime="fraud-mlserver")],
    }
    errors = config_errors(run_config, values)
    assert "no runtime 'fraud-mlserver' is available in namespace 'other'" in errors["models[0].runtime"]
    assert "runtimes[0].namespace" in errors


def test_runtime_may_not_take_a_builtin_name_or_repeat(run_config) -> None:
    values = {
        "runtimes": [
            {**RUNTIME, "name": "kserve-mlserver"},
            {**RUNTIME},
            {**RUNTIME, "supportedModelFormats": [{"name": "other", "priority": 1}]},
        ]
    }
    errors = config_errors(run_config, values)
    assert "built-in" in errors["runtimes[0].name"]
    assert "already declared by runtimes[1]" in errors["runtimes[2].name"]


def test_runtime_fields_are_typed(run_config) -> None:
    bad = {
        **RUNTIME,
        "image": "fraud-mlserver:latest",
        "protocolVersions": ["v1"],
        "supportedModelFormats": [{"name": "x", "priority": 0}],
        "env": {"PYTHONPATH": "/x"},
    }
    errors = config_errors(run_config, {"runtimes": [bad]})
    assert "latest" in errors["runtimes[0].image"]
    assert "runtimes[0].protocolVersions[0]" in errors
    assert "runtimes[0].supportedModelFormats[0].priority" in errors
    assert "PYTHONPATH" in errors["runtimes[0].env"]


def test_custom_image_model_does_not_need_a_runtime(run_config) -> None:
    run = run_config({"models": [CUSTOM]})
    assert "containers" in only(run, "InferenceService")["spec"]["predictor"]
