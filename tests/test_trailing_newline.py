"""Every name and value of the stack config refuses a trailing newline.

Python's `$` matches before a final "\\n" (Go's, which the API server uses, does not), so a pattern applied with
`re.match(r"...$")` let "models\\n" through as a namespace. This walks the whole config schema: each string field
(and each string dict key) must be set by one of the complete configs below, which parse cleanly; then each of
them, with "\\n" appended, must be a config error naming its key. A new string field fails
`test_every_string_field_is_covered` until it is given a value here (or a reason under FREE_TEXT).
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from config import ConfigError, parse_stack_config
from config.stack import StackConfig

SECRET_KEYS = ("s3KeyId", "s3Secret", "gcsJson", "azureId", "azureSecret", "azureTenant", "azureSubscription")

# Fields whose value is free text for the API server and KServe (a newline is a legitimate part of it).
FREE_TEXT = {
    "runtimes[].env[].value": "container env values are any text",
    "models[].env[].value": "container env values are any text",
    "models[].canary[].env[].value": "container env values are any text",
    "runtimes[].args[]": "container args are any text",
    "models[].args[]": "container args are any text",
    "models[].canary[].args[]": "container args are any text",
    "models[].annotations{}": "annotation values are any text",
    "models[].formatVersion": "KServe compares model format versions as text; KServe's rules are config/models.py's",
    "models[].canary[].formatVersion": "as models[].formatVersion",
    "runtimes[].supportedModelFormats[].version": "as models[].formatVersion",
    "models[].modelName": "the V2 path segment of a custom server: never sent to the API server",
    "models[].autoScaling.metrics[].external.metric.query": (
        "a PromQL (or Graphite) query KEDA sends as is: a newline is whitespace to it, and a YAML block scalar "
        "(`query: |`) ends with one"
    ),
    "models[].autoScaling.metrics[].podmetric.metric.query": (
        "the OpenTelemetry add-on's query (`avg(name{label=value})`): its parser trims surrounding whitespace first "
        "(kedify/otel-add-on metric/simple_parser.go, Parse)"
    ),
}


def affinity_term() -> dict[str, Any]:
    return copy.deepcopy(_AFFINITY_TERM)


_AFFINITY_TERM = {
    "topologyKey": "kubernetes.io/hostname",
    "labelSelector": {
        "matchLabels": {"app": "iris"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}],
    },
    "namespaces": ["models"],
    "namespaceSelector": {
        "matchLabels": {"team": "ml"},
        "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}],
    },
    "matchLabelKeys": ["pod-template-hash"],
    "mismatchLabelKeys": ["zone"],
}


def node_term() -> dict[str, Any]:
    return copy.deepcopy(_NODE_TERM)


_NODE_TERM = {
    "matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a"]}],
    "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}],
}


def env(prefix: str) -> list[dict[str, Any]]:
    return [
        {"name": f"{prefix}_PLAIN", "value": "x"},
        {"name": f"{prefix}_SECRET", "valueFrom": {"secretKeyRef": {"name": "app-secret", "key": "token"}}},
        {"name": f"{prefix}_CONFIG", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "level"}}},
        {"name": f"{prefix}_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": f"{prefix}_CPU",
            "valueFrom": {
                "resourceFieldRef": {"resource": "limits.cpu", "containerName": "kserve-container", "divisor": "1m"}
            },
        },
    ]


def resources() -> dict[str, Any]:
    return {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}


STANDARD: dict[str, Any] = {
    # A file of the checkout (model files are named relative to the project root).
    "modelFiles": ["tests/fixtures/model_files/custom-images.yaml"],
    "kserve": {
        "version": "v0.20.0",
        "chartRepository": "oci://ghcr.io/kserve/charts",
        "mlserverImage": "docker.io/seldonio/mlserver:1.7.1",
        "namespace": "kserve",
        "builtinRuntimes": ["mlserver"],
        "certManager": {"version": "v1.17.0", "chartRepository": "https://charts.jetstack.io", "namespace": "cm"},
        "ingress": {
            "mode": "gatewayApi",
            "domain": "example.com",
            "gatewayApi": {
                "crdsVersion": "v1.5.1",
                "crdsManifest": "https://files.example/gateway-api/v1.5.1/standard-install.yaml",
                "gatewayClassName": "envoy",
                "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                "gatewayName": "kserve-ingress-gateway",
                "envoyGateway": {
                    "version": "v1.8.1",
                    "chart": "oci://docker.io/envoyproxy/gateway-helm",
                    "crdsChart": "oci://docker.io/envoyproxy/gateway-crds-helm",
                    "namespace": "envoy-gateway-system",
                },
            },
        },
        "timeouts": {"create": "10m", "update": "10m", "delete": "10m"},
        "existingNamespaces": ["shared"],
        "extraStorageUriPrefixes": ["custom://"],
    },
    "runtimes": [
        {
            "name": "my-runtime",
            "namespace": "models",
            "image": "registry.example/mlserver-custom:1.0.0",
            "supportedModelFormats": [{"name": "sklearn", "version": "1", "autoSelect": False}],
            "env": env("RT"),
            "args": ["--debug"],
            "resources": resources(),
            "imagePullSecrets": ["registry-pull"],
        }
    ],
    "models": [
        {
            "name": "iris",
            "namespace": "models",
            "format": "sklearn",
            "formatVersion": "1",
            "runtime": "my-runtime",
            "storageUri": "gs://seldon-models/sklearn/iris",
            "env": env("MODEL"),
            "args": ["--verbose"],
            "resources": resources(),
            "serviceAccountName": "model-reader",
            "nodeSelector": {"node.kubernetes.io/instance-type": "m5.large"},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
            "labels": {"team": "ml"},
            "annotations": {"example.com/owner": "ml-team"},
            "mlserver": {"modelVersion": "v1"},
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [node_term()]},
                    "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": node_term()}],
                },
                "podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [affinity_term()],
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "podAffinityTerm": affinity_term()}
                    ],
                },
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [affinity_term()],
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "podAffinityTerm": affinity_term()}
                    ],
                },
            },
            "imagePullSecrets": ["registry-pull"],
            "readinessTimeout": "20m",
            "renamedFrom": {"name": "iris-old", "namespace": "models"},
            "runtimeVersion": "1.7.1",
            "ports": [{"name": "http1", "containerPort": 8080}],
            "logger": {
                "url": "s3://inference-logs/iris",
                "storage": {
                    "key": "logs-minio",
                    "path": "iris/events",
                    "parameters": {"type": "s3", "bucket": "inference-logs"},
                    "serviceAccountName": "logger-writer",
                },
                "metadataHeaders": ["X-Request-Id"],
                "metadataAnnotations": ["example.com/team"],
            },
            "deploymentStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "0%"},
            },
            "canary": [
                {
                    "name": "canary-v2",
                    "trafficPercent": 10,
                    "storageUri": "gs://seldon-models/sklearn/iris-v2",
                    "formatVersion": "1",
                    "runtime": "my-runtime",
                    "env": env("CANARY"),
                    "args": ["--canary"],
                    "resources": resources(),
                }
            ],
        },
        {
            "name": "custom",
            "namespace": "models",
            "image": "registry.example/custom-server:0.1.0",
            "modelName": "custom-model",
            "storageUri": "s3://bucket/custom",
            "storageCredentials": "s3-keys",
            "canary": [{"trafficPercent": 5, "image": "registry.example/custom-server:0.2.0"}],
        },
        {
            "name": "from-storage-spec",
            "namespace": "models",
            "format": "sklearn",
            "runtime": "my-runtime",
            "storage": {
                "key": "local-minio",
                "path": "sklearn/iris",
                "schemaPath": "sklearn/iris/schema.json",
                "parameters": {"type": "s3", "bucket": "example-models"},
            },
        },
        {
            "name": "keda-scaled",
            "namespace": "models",
            "format": "sklearn",
            "runtime": "my-runtime",
            "storageUri": "gs://seldon-models/sklearn/iris",
            "autoscalerClass": "keda",
            "autoScaling": {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "AverageValue", "averageValue": "1Gi", "value": "2Gi"},
                        },
                    },
                    {
                        "type": "External",
                        "external": {
                            "metric": {
                                "backend": "prometheus",
                                "serverAddress": "http://prometheus.monitoring:9090",
                                "query": "sum(rate(requests_total[1m]))",
                                "namespace": "models",
                            },
                            "authenticationRef": {"authenticationRef": {"name": "prometheus-auth"}},
                            "target": {"type": "Value", "value": "100", "averageValue": "50"},
                        },
                    },
                    {
                        "type": "PodMetric",
                        "podmetric": {
                            "metric": {
                                "backend": "opentelemetry",
                                "serverAddress": "keda-otel-scaler.keda.svc:4318",
                                "metricNames": ["process_cpu_seconds_total"],
                                "query": "avg(process_cpu_seconds_total)",
                            },
                            "target": {"type": "Value", "value": "1", "averageValue": "1"},
                        },
                    },
                ],
                "behavior": {"scaleUp": {"tolerance": "0.1"}, "scaleDown": {"tolerance": "0.05"}},
            },
        },
    ],
    "customImages": {"registry": "registry.example/ml"},
    "monitoring": {
        "enabled": True,
        "namespace": "monitoring",
        "selectorLabels": {"release": "kube-prometheus-stack"},
        "scrapeInterval": "30s",
        "dashboards": {"namespace": "grafana", "labels": {"grafana_dashboard": "1"}},
        "alerts": {"notServingFor": "5m", "sustainedFor": "10m", "labels": {"severity": "warning"}},
        "models": [{"model": "models/iris", "errorRatio": 0.1}],
    },
    "namespaces": {"networkPolicy": {"allowFromNamespaces": ["monitoring"]}, "labels": {"team": "ml"}},
    "modelDefaults": {"readinessTimeout": "15m"},
    "storageCredentials": [
        {
            "name": "s3-keys",
            "namespace": "models",
            "s3": {
                "accessKeyIdSecret": "s3KeyId",
                "secretAccessKeySecret": "s3Secret",
                "endpoint": "minio.storage:9000",
                "region": "eu-west-1",
            },
        },
        {"name": "s3-irsa", "namespace": "models", "s3": {"roleArn": "arn:aws:iam::123456789012:role/reader"}},
        {"name": "gcs", "namespace": "models", "gcs": {"serviceAccountJsonSecret": "gcsJson"}},
        {
            "name": "azure",
            "namespace": "models",
            "azure": {
                "clientIdSecret": "azureId",
                "clientSecretSecret": "azureSecret",
                "tenantIdSecret": "azureTenant",
                "subscriptionIdSecret": "azureSubscription",
            },
        },
    ],
    "publicStorageUriPrefixes": ["gs://seldon-models/"],
}
KNATIVE: dict[str, Any] = {
    "kserve": {
        "deploymentMode": "Knative",
        "knative": {
            "operatorVersion": "v1.21.1",
            "servingVersion": "1.21.1",
            "operatorNamespace": "knative-operator",
            "operatorChart": "oci://registry.example/charts/knative-operator",
            "istio": {"version": "1.27.1", "chartRepository": "https://istio-release.storage.googleapis.com/charts"},
        },
    }
}
# `mirror.charts` and `mirror.manifests` stand for the per-chart keys the other configs set (never both together).
INGRESS_CLASS: dict[str, Any] = {
    "kserve": {"ingress": {"mode": "ingressClass", "className": "nginx"}},
    "mirror": {
        "registry": "registry.internal:5000/kserve-mirror",
        "charts": "oci://registry.internal:5000/charts",
        "manifests": "https://files.internal/kserve",
        "customImages": True,
    },
}
COMPLETE_CONFIGS = {"standard": STANDARD, "knative": KNATIVE, "ingress-class": INGRESS_CLASS}

Path = tuple[str | int, ...]


def secret_keys_of(config: dict[str, Any]) -> tuple[str, ...]:
    return SECRET_KEYS if "storageCredentials" in config else ()


def _unwrap(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [member for arg in get_args(annotation) for member in _unwrap(arg)]
    return [annotation]


def schema_string_fields(model: type[BaseModel] = StackConfig, prefix: str = "") -> Iterator[str]:
    """Every place in the config schema that holds a string: `a.b[]`, dict keys as `{key}`, dict values `{}`."""
    for name, field in model.model_fields.items():
        path = f"{prefix}.{field.alias or name}" if prefix else field.alias or name
        for member in _unwrap(field.annotation):
            yield from _strings_in(member, path)


def _strings_in(annotation: Any, path: str) -> Iterator[str]:
    origin = get_origin(annotation)
    if annotation is str:
        yield path
    elif origin in (list, tuple):
        for member in _unwrap(get_args(annotation)[0]):
            yield from _strings_in(member, f"{path}[]")
    elif origin is dict:
        key, value = get_args(annotation)
        if str in _unwrap(key):
            yield f"{path}{{key}}"
        for member in _unwrap(value):
            yield from _strings_in(member, f"{path}{{}}")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from schema_string_fields(annotation, path)


def string_leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, bool]]:
    """(path, is a dict key) of every string in a raw config."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), True
            yield from string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, (*path, index))
    elif isinstance(value, str):
        yield path, False


def schema_path(path: Path, is_key: bool, config: dict[str, Any]) -> str:
    """`("models", 0, "labels", "team")` -> `models[].labels{}` (or `{key}` for the key itself)."""
    out = ""
    node: Any = config
    for position, part in enumerate(path):
        last = position == len(path) - 1
        if isinstance(part, int):
            out += "[]"
        elif isinstance(node, dict) and _is_mapping_field(out):
            out += "{key}" if last and is_key else "{}"
        elif last and is_key:
            return ""  # a key of the config schema itself, not a value
        else:
            out += f".{part}" if out else part
        node = node[part]
    return out


def _is_mapping_field(schema_prefix: str) -> bool:
    return any(field.startswith(f"{schema_prefix}{{") for field in SCHEMA_FIELDS)


SCHEMA_FIELDS = set(schema_string_fields())


def with_newline(config: dict[str, Any], path: Path, is_key: bool) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if is_key:
        parent[f"{last}\n"] = parent.pop(last)
    else:
        parent[last] = parent[last] + "\n"
    return changed


def cases() -> Iterator[tuple[str, dict[str, Any], Path, bool, str]]:
    for config_name, config in COMPLETE_CONFIGS.items():
        for path, is_key in string_leaves(config):
            field = schema_path(path, is_key, config)
            if field in SCHEMA_FIELDS and field not in FREE_TEXT:
                yield config_name, config, path, is_key, field


CASES = list(cases())


def _key_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@pytest.mark.parametrize("config", COMPLETE_CONFIGS.values(), ids=COMPLETE_CONFIGS.keys())
def test_complete_configs_are_valid(config: dict[str, Any]) -> None:
    parse_stack_config(config, secret_keys=secret_keys_of(config))


def test_every_string_field_is_covered() -> None:
    covered = {field for *_, field in CASES} | set(FREE_TEXT)
    assert SCHEMA_FIELDS - covered == set(), "string fields no complete config sets (add them above)"
    assert set(FREE_TEXT) <= SCHEMA_FIELDS, "FREE_TEXT names fields the schema no longer has"


@pytest.mark.parametrize(
    ("config", "path", "is_key"),
    [(config, path, is_key) for _, config, path, is_key, _ in CASES],
    ids=[f"{name}:{_key_path(path)}{'(key)' if is_key else ''}" for name, _, path, is_key, _ in CASES],
)
def test_trailing_newline_is_refused(config: dict[str, Any], path: Path, is_key: bool) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(with_newline(config, path, is_key), secret_keys=secret_keys_of(config))
    # The error names the key: its own path, or that of the field holding it (a mapping, a list, a block with a
    # rule over several keys), never only the entry or the whole config.
    leaf = _key_path(path)
    entry = _key_path(path[:2] if len(path) > 2 and isinstance(path[1], int) else path[:1])
    holder = _key_path(path[:-1])
    paths = [issue.path for issue in caught.value.issues]
    assert any(
        p.startswith(entry) and len(p) > len(entry) and (leaf.startswith(p) or (is_key and p.startswith(holder)))
        for p in paths
    ), (leaf, paths)
