"""The predictor-spec features of issue 12 (config/predictor.py): each rendered into the InferenceService and checked
against the v0.20.0 CRD with unknown fields refused, and each KServe rule broken once by a config that gets a
named error at preview. A rule's test id names the Go function of ../shared/kserve/v0.20.0/webhook/ it mirrors
(or the later stage that would refuse it: Knative's webhook, the API server, the controller)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from model_helpers import CUSTOM, model, objects, only
from schemas import schema_errors

from config.errors import ConfigError
from config.mlserver import mlserver_env, port_env
from config.stack import parse_stack_config

STANDARD = {"deploymentMode": "Standard"}
KNATIVE = {"deploymentMode": "Knative"}
SKLEARN_SERVER = {"deploymentMode": "Standard", "builtinRuntimes": ["mlserver", "sklearnserver"]}


def isvc_for(run_config, entry: dict, kserve: dict | None = None) -> dict[str, Any]:
    obj = only(run_config({"kserve": kserve or STANDARD, "models": [entry]}), "InferenceService")
    assert schema_errors(obj) == [], schema_errors(obj)
    return obj


def errors_for(entry: dict, kserve: dict | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"kserve": kserve or STANDARD, "models": [entry]})
    return {issue.path: issue.message for issue in caught.value.issues}


def accepted(entry: dict, kserve: dict | None = None) -> None:
    parse_stack_config({"kserve": kserve or STANDARD, "models": [entry]})


# --- 1. ports -------------------------------------------------------------------------------------------------


def test_grpc_ports_on_a_builtin_model_knative(run_config) -> None:
    # As KServe's own gRPC examples do it: the V2 protocol, served over HTTP/2 on a port named h2c.
    entry = model(protocolVersion="v2", ports=[{"name": "h2c", "containerPort": 9000}])
    spec = isvc_for(run_config, entry, KNATIVE)["spec"]["predictor"]["model"]
    assert spec["protocolVersion"] == "v2"
    assert spec["ports"] == [{"name": "h2c", "containerPort": 9000, "protocol": "TCP"}]
    # One source of truth: MLServer listens where the declared port says.
    assert {"name": "MLSERVER_GRPC_PORT", "value": "9000"} in spec["env"]


def test_grpc_port_moved_moves_mlserver_and_rest_port_too(run_config) -> None:
    entry = model(
        ports=[{"name": "grpc", "containerPort": 9500}, {"name": "http", "containerPort": 8085}],
    )
    spec = isvc_for(run_config, entry)["spec"]["predictor"]["model"]
    assert [port["containerPort"] for port in spec["ports"]] == [9500, 8085]
    assert spec["env"] == [
        {"name": "MLSERVER_GRPC_PORT", "value": "9500"},
        {"name": "MLSERVER_HTTP_PORT", "value": "8085"},
    ]


def test_kserve_own_server_gets_ports_but_no_mlserver_env(run_config) -> None:
    entry = model(runtime="kserve-sklearnserver", ports=[{"name": "h2c", "containerPort": 8081}])
    spec = isvc_for(run_config, entry, SKLEARN_SERVER)["spec"]["predictor"]["model"]
    assert spec["ports"] == [{"name": "h2c", "containerPort": 8081, "protocol": "TCP"}]
    assert "env" not in spec


def test_v1_model_gets_no_mlserver_port_env() -> None:
    """MLServer speaks no V1: a v1 model runs on KServe's own server, which takes no MLSERVER_* env."""
    stack = parse_stack_config(
        {
            "kserve": SKLEARN_SERVER,
            "models": [model(protocolVersion="v1", ports=[{"name": "http", "containerPort": 8085}])],
        }
    )
    assert port_env(stack.models[0]) == []


def test_named_port_on_a_custom_container(run_config) -> None:
    entry = {**CUSTOM, "ports": [{"name": "http1", "containerPort": 8081}]}
    (container,) = isvc_for(run_config, entry, KNATIVE)["spec"]["predictor"]["containers"]
    assert container["ports"] == [{"name": "http1", "containerPort": 8081, "protocol": "TCP"}]
    assert {"name": "MLSERVER_HTTP_PORT", "value": "8081"} in container["env"]


@pytest.mark.parametrize(
    ("kserve", "fields", "path", "fragment"),
    [
        pytest.param(KNATIVE, {"protocolVersion": "grpc-v2"}, "protocolVersion", "h2c", id="grpc-needs-port"),
        pytest.param(
            KNATIVE,
            {"protocolVersion": "grpc-v2", "ports": [{"name": "grpc", "containerPort": 9000}]},
            "ports[0].name",
            "h2c",
            id="knative-validateContainerPorts-name",
        ),
        pytest.param(
            KNATIVE,
            {"ports": [{"name": "http1", "containerPort": 8080}, {"name": "h2c", "containerPort": 9000}]},
            "ports",
            "exactly one container port",
            id="knative-validateContainerPorts-one-port",
        ),
        pytest.param(
            STANDARD,
            {"protocolVersion": "grpc-v2", "ports": [{"name": "http", "containerPort": 9000}]},
            "ports[0].name",
            "grpc (or h2c)",
            id="service_reconciler-isGrpcPort-grpc-on-http-port",
        ),
        pytest.param(
            STANDARD,
            {"ports": [{"name": "a", "containerPort": 8080}, {"name": "b", "containerPort": 8081}]},
            "ports[1]",
            "one HTTP port",
            id="mlserver-one-port-per-kind",
        ),
        pytest.param(
            STANDARD,
            {"ports": [{"name": "http", "containerPort": 8081}], "env": {"MLSERVER_HTTP_PORT": "8082"}},
            "env[0].name",
            "derived from the declared ports",
            id="mlserver-port-env-has-one-source",
        ),
        pytest.param(
            STANDARD,
            {"ports": [{"name": "Grpc", "containerPort": 9000}]},
            "ports[0].name",
            "port name",
            id="apiserver-IsValidPortName",
        ),
        pytest.param(
            STANDARD,
            {"ports": [{"containerPort": 8080}, {"containerPort": 8080}]},
            "ports",
            "once",
            id="apiserver-duplicate-containerPort",
        ),
        pytest.param(
            STANDARD,
            {"ports": [{"containerPort": 70000}]},
            "ports[0].containerPort",
            "65535",
            id="apiserver-port-range",
        ),
    ],
)
def test_port_rules(kserve: dict, fields: dict, path: str, fragment: str) -> None:
    errors = errors_for(model(**fields), kserve)
    assert fragment in errors[f"models[0].{path}"], errors


def test_custom_port_and_ports_are_exclusive() -> None:
    errors = errors_for({**CUSTOM, "port": 8080, "ports": [{"containerPort": 8081}]})
    assert "not both" in errors["models[0].ports"]
    assert "models/custom" in errors["models[0].ports"]


def test_port_env_stays_off_the_local_server() -> None:
    """serve_local picks its own loopback ports: the derived listen ports are cluster-only env."""
    stack = parse_stack_config({"models": [model(ports=[{"name": "http", "containerPort": 8085}])]})
    (entry,) = stack.models
    assert port_env(entry) == [{"name": "MLSERVER_HTTP_PORT", "value": "8085"}]
    assert mlserver_env(entry) == []


# --- 2. logger ------------------------------------------------------------------------------------------------


def test_logger_with_url_and_headers(run_config) -> None:
    logger = {"mode": "request", "url": "http://message-dumper.default/", "metadataHeaders": ["x-request-id"]}
    predictor = isvc_for(run_config, model(logger=logger))["spec"]["predictor"]
    assert predictor["logger"] == logger


def test_logger_to_blob_storage(run_config) -> None:
    logger = {
        "url": "s3://acme-logs",
        "storage": {"key": "logger-credentials", "path": "/logs", "parameters": {"type": "s3", "format": "json"}},
    }
    predictor = isvc_for(run_config, model(logger=logger))["spec"]["predictor"]
    assert predictor["logger"] == {"mode": "all", **logger}


@pytest.mark.parametrize(
    ("logger", "path", "fragment"),
    [
        pytest.param({"mode": "everything"}, "logger.mode", "allowed", id="validateLogger-mode"),
        pytest.param(
            {"url": "s3://b", "storage": {"key": "k", "path": "/logs"}},
            "logger.storage",
            "parameters",
            id="validateLogger-storage-needs-key-path-parameters",
        ),
        pytest.param({"url": "s3://b"}, "logger.storage", "add storage", id="logger-blob-url-needs-storage"),
        pytest.param({"url": "message-dumper"}, "logger.url", "not a URL", id="logger-store-GetStorageStrategy"),
        pytest.param({"url": "ftp://logs/x"}, "logger.url", "not a URL", id="logger-store-isValidScheme"),
        pytest.param(
            {"metadataHeaders": ["X Request Id"]},
            "logger.metadataHeaders[0]",
            "not an HTTP header name",
            id="http-header-field-name",
        ),
        pytest.param(
            {"metadataAnnotations": ["example.com/team/x"]},
            "logger.metadataAnnotations[0]",
            "annotation key",
            id="apiserver-ValidateAnnotations-key",
        ),
        pytest.param(
            {"url": "s3://b", "storage": {"key": "k", "path": "logs/ x", "parameters": {"type": "s3"}}},
            "logger.storage.path",
            "without spaces",
            id="storage-path-one-token",
        ),
        pytest.param(
            {"url": "s3://b", "storage": {"key": "k", "path": "logs", "parameters": {"bucket name": "b"}}},
            "logger.storage.parameters.bucket name",
            "without spaces",
            id="storage-parameter-name-one-token",
        ),
    ],
)
def test_logger_rules(logger: dict, path: str, fragment: str) -> None:
    errors = errors_for(model(logger=logger))
    assert fragment in errors[f"models[0].{path}"], errors


# --- 3. deploymentStrategy ------------------------------------------------------------------------------------


def test_rolling_update_strategy_in_standard_mode(run_config) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "100%"}}
    predictor = isvc_for(run_config, model(deploymentStrategy=strategy))["spec"]["predictor"]
    assert predictor["deploymentStrategy"] == strategy


@pytest.mark.parametrize(
    ("kserve", "strategy", "path", "fragment"),
    [
        pytest.param(
            KNATIVE,
            {"type": "RollingUpdate"},
            "deploymentStrategy",
            "only in Standard mode",
            id="validateScalingKPACompExtension-deploymentStrategy",
        ),
        pytest.param(
            STANDARD,
            {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}},
            "deploymentStrategy",
            "both be 0",
            id="apiserver-ValidateRollingUpdateDeployment-both-zero",
        ),
        pytest.param(
            STANDARD,
            {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}},
            "deploymentStrategy",
            "Recreate",
            id="apiserver-ValidateDeploymentStrategy-recreate",
        ),
        pytest.param(
            STANDARD,
            {"rollingUpdate": {"maxUnavailable": "150%"}},
            "deploymentStrategy",
            "100%",
            id="apiserver-maxUnavailable-over-100",
        ),
        pytest.param(
            STANDARD,
            {"rollingUpdate": {"maxSurge": "1"}},
            "deploymentStrategy.rollingUpdate.maxSurge",
            "without '%'",
            id="int-or-percent-string",
        ),
    ],
)
def test_deployment_strategy_rules(kserve: dict, strategy: dict, path: str, fragment: str) -> None:
    errors = errors_for(model(deploymentStrategy=strategy), kserve)
    assert fragment in errors[f"models[0].{path}"], errors


# --- 4. runtimeVersion ----------------------------------------------------------------------------------------


def test_runtime_version_on_a_builtin_model(run_config) -> None:
    spec = isvc_for(run_config, model(runtimeVersion="1.7.1"))["spec"]["predictor"]["model"]
    assert spec["runtimeVersion"] == "1.7.1"


@pytest.mark.parametrize(
    ("entry", "path", "fragment"),
    [
        pytest.param(model(runtimeVersion="latest"), "runtimeVersion", "pin the runtime image version", id="latest"),
        pytest.param(model(runtimeVersion="1.7 .1"), "runtimeVersion", "not an image tag", id="bad-tag"),
        # distribution/reference's `\w` is Go's, ASCII only.
        pytest.param(model(runtimeVersion="1.7.1\u00e9"), "runtimeVersion", "not an image tag", id="non-ascii-tag"),
        pytest.param({**CUSTOM, "runtimeVersion": "1.0"}, "runtimeVersion", "built-in", id="custom-image"),
    ],
)
def test_runtime_version_rules(entry: dict, path: str, fragment: str) -> None:
    assert fragment in errors_for(entry)[f"models[0].{path}"]


# --- 5. autoScaling -------------------------------------------------------------------------------------------

CPU_UTILISATION = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
}
EXTERNAL = {
    "type": "External",
    "external": {
        "metric": {
            "backend": "prometheus",
            "serverAddress": "http://prometheus.monitoring:9090",
            "query": "sum(rate(mlserver_requests_total[1m]))",
        },
        "authenticationRef": {"authenticationRef": {"name": "keda-prom-creds"}, "authModes": "bearer"},
        "target": {"type": "Value", "value": "2"},
    },
}
POD_METRIC = {
    "type": "PodMetric",
    "podmetric": {
        "metric": {"backend": "opentelemetry", "metricNames": ["queue_depth"], "query": "queue_depth"},
        "target": {"type": "Value", "value": "4"},
    },
}


def _metric(name: str, target: dict) -> dict:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


def test_keda_with_resource_external_and_pod_metrics(run_config) -> None:
    scaling = {"metrics": [CPU_UTILISATION, EXTERNAL, POD_METRIC]}
    obj = isvc_for(run_config, model(autoscalerClass="keda", minReplicas=1, maxReplicas=5, autoScaling=scaling))
    assert obj["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "keda"
    assert obj["spec"]["predictor"]["autoScaling"]["metrics"][1]["external"]["metric"]["query"] == (
        "sum(rate(mlserver_requests_total[1m]))"
    )
    assert obj["spec"]["predictor"]["autoScaling"]["metrics"][2]["podmetric"]["target"] == {
        "type": "Value",
        "value": "4",
    }


def test_hpa_with_resource_metrics(run_config) -> None:
    memory = _metric("memory", {"type": "AverageValue", "averageValue": "1Gi"})
    predictor = isvc_for(run_config, model(maxReplicas=4, autoScaling={"metrics": [CPU_UTILISATION, memory]}))["spec"][
        "predictor"
    ]
    assert predictor["autoScaling"]["metrics"] == [CPU_UTILISATION, memory]


def test_keda_with_scaling_behaviour(run_config) -> None:
    scaling = {
        "metrics": [CPU_UTILISATION],
        "behavior": {
            "scaleDown": {
                "stabilizationWindowSeconds": 300,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
            }
        },
    }
    predictor = isvc_for(run_config, model(autoscalerClass="keda", maxReplicas=4, autoScaling=scaling))["spec"][
        "predictor"
    ]
    assert predictor["autoScaling"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_canary_does_not_inherit_the_autoscaling_spec(run_config) -> None:
    """validateCanarySpecs: a canary must not set autoScaling (canaries run at fixed replicas)."""
    entry = model(
        autoScaling={"metrics": [CPU_UTILISATION]},
        logger={"url": "http://message-dumper.default/"},
        ports=[{"name": "http", "containerPort": 8080}],
        deploymentStrategy={"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        canary=[{"trafficPercent": 10, "storageUri": "gs://seldon-models/sklearn/iris2"}],
    )
    obj = only(run_config({"kserve": STANDARD, "models": [entry]}), "InferenceService")
    canary = obj["spec"]["canary"][0]["predictor"]
    # The canary list's predictor schema takes the other predictor-spec fields as the stable one does.
    assert schema_errors(obj) == []
    assert "autoScaling" in obj["spec"]["predictor"]
    assert "autoScaling" not in canary
    assert canary["logger"] == obj["spec"]["predictor"]["logger"]
    assert canary["model"]["ports"] == obj["spec"]["predictor"]["model"]["ports"]


@pytest.mark.parametrize(
    ("kserve", "fields", "path", "fragment"),
    [
        pytest.param(
            STANDARD,
            {"autoScaling": {"metrics": [EXTERNAL]}},
            "autoScaling.metrics[0].type",
            "autoscalerClass: keda",
            id="validateScalingHPACompExtension-resource-only",
        ),
        pytest.param(
            STANDARD,
            {
                "autoscalerClass": "keda",
                "autoScaling": {"metrics": [_metric("cpu", {"type": "AverageValue", "averageValue": "500m"})]},
            },
            "autoScaling.metrics[0].resource.target.type",
            "Utilization",
            id="validateScalingKedaCompExtension-cpu-utilization",
        ),
        pytest.param(
            STANDARD,
            {
                "autoscalerClass": "keda",
                "autoScaling": {"metrics": [_metric("memory", {"type": "AverageValue", "averageValue": "512Ki"})]},
            },
            "autoScaling.metrics[0].resource.target.averageValue",
            "1Mi",
            id="validateScalingKedaCompExtension-memory-1Mi",
        ),
        pytest.param(
            STANDARD,
            {
                "autoscalerClass": "keda",
                "autoScaling": {
                    "metrics": [{**EXTERNAL, "external": {**EXTERNAL["external"], "metric": {"backend": "prometheus"}}}]
                },
            },
            "autoScaling.metrics[0].external.metric.query",
            "query",
            id="validateScalingKedaCompExtension-empty-query",
        ),
        pytest.param(
            STANDARD,
            {
                "autoscalerClass": "keda",
                "autoScaling": {
                    "metrics": [{**POD_METRIC, "podmetric": {**POD_METRIC["podmetric"], "metric": {"query": " \n"}}}]
                },
            },
            "autoScaling.metrics[0].podmetric.metric.query",
            "query",
            # KServe tests only == "": a blank query passes its webhook and fails in KEDA on every poll.
            id="validateScalingKedaCompExtension-blank-query",
        ),
        pytest.param(
            STANDARD,
            {
                "autoscalerClass": "keda",
                "autoScaling": {
                    "metrics": [
                        {
                            **POD_METRIC,
                            "podmetric": {**POD_METRIC["podmetric"], "metric": {"metricNames": ["queue depth"]}},
                        }
                    ]
                },
            },
            "autoScaling.metrics[0].podmetric.metric.metricNames[0]",
            "not a metric name",
            id="otel-metric-name",
        ),
        pytest.param(
            STANDARD,
            {
                "autoscalerClass": "keda",
                "autoScaling": {
                    "metrics": [
                        {
                            **EXTERNAL,
                            "external": {
                                **EXTERNAL["external"],
                                "metric": {"serverAddress": "http://prometheus :9090", "query": "up"},
                            },
                        }
                    ]
                },
            },
            "autoScaling.metrics[0].external.metric.serverAddress",
            "without spaces",
            id="keda-serverAddress-one-token",
        ),
        pytest.param(
            STANDARD,
            {
                "autoscalerClass": "keda",
                "autoScaling": {
                    "metrics": [{**POD_METRIC, "podmetric": {**POD_METRIC["podmetric"], "target": {"type": "Value"}}}]
                },
            },
            "autoScaling.metrics[0].podmetric.target.value",
            "target.value",
            id="validateScalingKedaCompExtension-threshold",
        ),
        pytest.param(
            STANDARD,
            {"autoScaling": {"metrics": [_metric("cpu", {"type": "Utilization", "averageUtilization": 150})]}},
            "autoScaling.metrics[0].resource.target.averageUtilization",
            "1 to 100",
            id="validateScaleTarget-utilization-range",
        ),
        pytest.param(
            STANDARD,
            {"autoScaling": {"metrics": [_metric("cpu", {"type": "AverageValue", "averageValue": "500m"})]}},
            "autoScaling.metrics[0].resource.target.type",
            "Utilization only",
            id="hpa_reconciler-getHPAMetrics-cpu-utilization",
        ),
        pytest.param(
            STANDARD,
            {"autoScaling": {"metrics": [CPU_UTILISATION], "behavior": {"scaleUp": {"selectPolicy": "Max"}}}},
            "autoScaling.behavior",
            "ignores autoScaling.behavior",
            id="hpa_reconciler-createHPA-behavior",
        ),
        pytest.param(
            STANDARD,
            {"autoScaling": {"metrics": [_metric("cpu", {"type": "Utilization"})]}},
            "autoScaling.metrics[0].resource.target.averageUtilization",
            "needs averageUtilization",
            id="validateScaleTarget-member-set",
        ),
        pytest.param(
            STANDARD,
            {"autoScaling": {"metrics": [{"type": "External"}]}},
            "autoScaling.metrics[0].external",
            "needs 'external'",
            id="validateScalingKedaCompExtension-source-set",
        ),
        pytest.param(
            STANDARD,
            {"autoScaling": {"metrics": [{**CPU_UTILISATION, "external": EXTERNAL["external"]}]}},
            "autoScaling.metrics[0]",
            "takes 'resource' only",
            id="MetricsSpec-one-source",
        ),
        pytest.param(
            KNATIVE,
            {"autoScaling": {"metrics": [CPU_UTILISATION]}},
            "autoScaling",
            "Knative",
            id="knative-ignores-autoScaling",
        ),
        pytest.param(
            STANDARD,
            {"autoscalerClass": "none", "autoScaling": {"metrics": [CPU_UTILISATION]}},
            "autoScaling",
            "no effect",
            id="autoscaler-none",
        ),
        pytest.param(
            STANDARD,
            {"scaleMetric": "cpu", "autoScaling": {"metrics": [CPU_UTILISATION]}},
            "autoScaling",
            "not both",
            id="autoScaling-or-scaleMetric",
        ),
    ],
)
def test_autoscaling_spec_rules(kserve: dict, fields: dict, path: str, fragment: str) -> None:
    errors = errors_for(model(**fields), kserve)
    assert fragment in errors[f"models[0].{path}"], errors


# --- 6. containerConcurrency and timeout ----------------------------------------------------------------------


def test_container_concurrency_and_timeout_in_knative_mode(run_config) -> None:
    predictor = isvc_for(run_config, model(containerConcurrency=10, timeout=60), KNATIVE)["spec"]["predictor"]
    assert (predictor["containerConcurrency"], predictor["timeout"]) == (10, 60)


def test_timeout_in_standard_mode_is_the_route_timeout(run_config) -> None:
    # KServe's httproute_reconciler uses predictor.timeout for the HTTPRoute in Standard mode.
    assert isvc_for(run_config, model(timeout=120))["spec"]["predictor"]["timeout"] == 120


@pytest.mark.parametrize(
    ("kserve", "fields", "path", "fragment"),
    [
        pytest.param(
            KNATIVE,
            {"containerConcurrency": -1},
            "containerConcurrency",
            "greater than or equal to 0",
            id="validateContainerConcurrency",
        ),
        pytest.param(
            STANDARD,
            {"containerConcurrency": 4},
            "containerConcurrency",
            "Knative",
            id="containerConcurrency-knative-only",
        ),
        pytest.param(
            KNATIVE,
            {"containerConcurrency": 5000},
            "containerConcurrency",
            "container-concurrency-max-limit",
            id="knative-container-concurrency-max-limit",
        ),
        pytest.param(
            KNATIVE, {"timeout": 3600}, "timeout", "max-revision-timeout-seconds", id="knative-max-revision-timeout"
        ),
        pytest.param(KNATIVE, {"timeout": 0}, "timeout", "greater than or equal to 1", id="timeout-positive"),
    ],
)
def test_knative_request_rules(kserve: dict, fields: dict, path: str, fragment: str) -> None:
    errors = errors_for(model(**fields), kserve)
    assert fragment in errors[f"models[0].{path}"], errors


# --- 7 + 9. storage spec, and a built-in model without storageUri ----------------------------------------------


def test_storage_spec_instead_of_storage_uri(run_config) -> None:
    entry = model(storage={"key": "localMinIO", "path": "sklearn", "parameters": {"bucket": "example-models"}})
    del entry["storageUri"]
    spec = isvc_for(run_config, entry)["spec"]["predictor"]["model"]
    assert "storageUri" not in spec
    assert spec["storage"] == {"key": "localMinIO", "path": "sklearn", "parameters": {"bucket": "example-models"}}
    # MLServer loads the model at startup (KServe's SetMlServerDefaults: a storage spec counts as a model).
    assert "MLSERVER_LOAD_MODELS_AT_STARTUP" not in str(spec.get("env"))


@pytest.mark.parametrize(
    ("fields", "path", "fragment"),
    [
        pytest.param({"storage": {"key": "k", "path": "p"}}, "storage", "not both", id="storageUri-or-storage"),
        pytest.param(
            {"storageUri": None, "storage": {"key": "k"}},
            "storage.path",
            "needs path",
            id="addStorageSpecAnnotations-path",
        ),
        pytest.param(
            {"storageUri": None, "storage": {"path": "p", "parameters": {"type": "gs"}}},
            "storage.parameters.type",
            "s3, hdfs, webhdfs",
            id="SupportedStorageSpecTypes",
        ),
        pytest.param(
            {"storageUri": None, "storage": {"key": "a/b", "path": "p"}},
            "storage.key",
            "Secret/ConfigMap key",
            id="apiserver-IsConfigMapKey",
        ),
        pytest.param({"storageUri": None}, "storageUri", "NoSupportingRuntime", id="IsMMSPredictor-no-runtime"),
    ],
)
def test_storage_spec_rules(fields: dict, path: str, fragment: str) -> None:
    entry = {key: value for key, value in model(**fields).items() if value is not None}
    errors = errors_for(entry)
    assert fragment in errors[f"models[0].{path}"], errors


MULTI_MODEL_RUNTIME = {
    "name": "mlserver-multi",
    "namespace": "models",
    "image": "docker.io/seldonio/mlserver:1.7.1",
    "supportedModelFormats": [{"name": "sklearn", "version": "1", "autoSelect": True, "priority": 1}],
    "multiModel": True,
}


def test_builtin_model_without_storage_on_a_multi_model_runtime(run_config) -> None:
    """IsMMSPredictor + GetSupportingRuntimes: a predictor without storageUri/storage is multi-model, and KServe
    accepts it when a runtime with multiModel: true serves its format."""
    entry = {key: value for key, value in model().items() if key != "storageUri"}
    run = run_config({"kserve": STANDARD, "runtimes": [MULTI_MODEL_RUNTIME], "models": [entry]})
    obj = only(run, "InferenceService")
    assert schema_errors(obj) == []
    assert "storageUri" not in obj["spec"]["predictor"]["model"]
    runtime = only(run, "ServingRuntime")
    assert schema_errors(runtime) == []
    assert runtime["spec"]["multiModel"] is True


def test_multi_model_runtime_does_not_take_a_single_model() -> None:
    """GetSupportingRuntimes: IsMultiModelRuntime() must equal isMMS, so a model with storageUri never lands on it."""
    runtime = {**MULTI_MODEL_RUNTIME, "supportedModelFormats": [{"name": "onnx", "autoSelect": True, "priority": 1}]}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"kserve": STANDARD, "runtimes": [runtime], "models": [model(format="onnx")]})
    assert "NoSupportingRuntime" in {i.path: i.message for i in caught.value.issues}["models[0].format"]


def test_naming_a_multi_model_runtime_for_a_single_model() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(
            {"kserve": STANDARD, "runtimes": [MULTI_MODEL_RUNTIME], "models": [model(runtime="mlserver-multi")]}
        )
    message = {i.path: i.message for i in caught.value.issues}["models[0].runtime"]
    assert "multi-model runtime" in message and "NoSupportingRuntime" in message


# --- 8. oci+native:// -----------------------------------------------------------------------------------------


def test_oci_native_storage_uri(run_config) -> None:
    uri = "oci+native://ghcr.io/my-org/my-sklearn-model:v1"
    assert isvc_for(run_config, model(storageUri=uri))["spec"]["predictor"]["model"]["storageUri"] == uri


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("oci+native://ghcr.io/my-org/my-sklearn-model", "has no tag"),
        ("oci+native://ghcr.io/my-org/my-sklearn-model:latest", "moving tag 'latest'"),
        ("oci+native://", "names no location"),
        ("oci+modelcar://ghcr.io/my-org/m:v1", "no scheme"),
    ],
)
def test_oci_native_rules(uri: str, fragment: str) -> None:
    assert fragment in errors_for(model(storageUri=uri))["models[0].storageUri"]


# --- 10. batcher ----------------------------------------------------------------------------------------------


def test_batcher_on_a_v1_model(run_config) -> None:
    entry = model(
        protocolVersion="v1",
        runtime="kserve-sklearnserver",
        minReplicas=1,
        batcher={"maxBatchSize": 32, "maxLatency": 500, "timeout": 60},
    )
    predictor = isvc_for(run_config, entry, SKLEARN_SERVER)["spec"]["predictor"]
    assert predictor["batcher"] == {"maxBatchSize": 32, "maxLatency": 500, "timeout": 60}


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        pytest.param({"batcher": {"maxBatchSize": 8}}, "mlserver.maxBatchSize", id="batcher-handler-v1-only"),
        pytest.param(
            {
                "protocolVersion": "v1",
                "runtime": "kserve-sklearnserver",
                "batcher": {"maxBatchSize": 8},
                "mlserver": {"maxBatchSize": 4},
            },
            "not both",
            id="one-batcher",
        ),
    ],
)
def test_batcher_rules(fields: dict, fragment: str) -> None:
    errors = errors_for(model(**fields), SKLEARN_SERVER)
    assert fragment in errors["models[0].batcher"], errors


def test_batcher_size_must_be_positive() -> None:
    errors = errors_for(model(protocolVersion="v1", batcher={"maxBatchSize": 0}), SKLEARN_SERVER)
    assert "greater than or equal to 1" in errors["models[0].batcher.maxBatchSize"]


def test_rule_errors_name_the_model() -> None:
    errors = errors_for(model(name="fraud", namespace="risk", containerConcurrency=3))
    assert "model 'risk/fraud'" in errors["models[0].containerConcurrency"]


def test_all_problems_reported_at_once() -> None:
    errors = errors_for(model(containerConcurrency=3, batcher={"maxBatchSize": 4}, logger={"url": "s3://b"}))
    assert {"models[0].containerConcurrency", "models[0].batcher", "models[0].logger.storage"} <= set(errors)


def test_docs_predictor_spec_example_renders_valid(run_config) -> None:
    """The config details' example of these keys is a working stack config, not prose."""
    readme = (Path(__file__).resolve().parents[1] / "docs/reference/config-details.md").read_text()
    block = readme.split("The predictor-spec keys together", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    models = yaml.safe_load(block)["kserve-platform:models"]
    run = run_config({"kserve": STANDARD, "models": models})
    found = objects(run, "InferenceService")
    assert len(found) == 2
    for obj in found:
        assert schema_errors(obj) == []
    grpc = next(obj for obj in found if obj["metadata"]["name"] == "fraud-grpc")["spec"]["predictor"]
    assert grpc["model"]["storage"] == {"key": "models-s3", "path": "fraud-detector/v3"}
    assert {"name": "MLSERVER_GRPC_PORT", "value": "9000"} in grpc["model"]["env"]


def test_field_errors_name_the_model_too() -> None:
    """A value refused by its type (not by a cross-key rule) also names the model as namespace/name."""
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(
            {"kserve": STANDARD, "models": [model(name="fraud", namespace="risk", runtimeVersion="latest")]}
        )
    (issue,) = (issue for issue in caught.value.issues if issue.path == "models[0].runtimeVersion")
    assert issue.model == "risk/fraud"
    assert str(issue).startswith("models[0].runtimeVersion (risk/fraud): ")
