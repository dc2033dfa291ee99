"""Predictor settings beyond the model artifact: serving ports, request logging, rollout strategy, the structured
autoscaling spec, Knative concurrency and timeout, the storage spec, and the batcher.

Field shapes mirror the v0.20.0 InferenceService CRD (`spec.predictor` and `spec.predictor.model`); the rules
mirror KServe's webhook (`../shared/kserve/v0.20.0/webhook/*.go`, function named at each rule) and, where
KServe leaves a check to a later stage (Knative's webhook, the Kubernetes API server, the controller), that
stage's rule, so a mistake is reported at preview with its key instead of after `pulumi up`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from config.base import StrictModel
from config.kubernetes import AnnotationKey, ConfigMapKey, DnsLabel, Quantity, Token, parse_quantity

if TYPE_CHECKING:
    from config.models import ModelConfig

Issue = tuple[tuple[str | int, ...], str]

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# ---------------------------------------------------------------------------------------------------------------
# Ports (`model.ports` / the custom container's `ports`)

# A container port name as the API server validates it (IsValidPortName: an IANA service name).
_PORT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?")
# Knative serves exactly one port and reads its protocol from the name: h2c = HTTP/2 cleartext (gRPC), http1 or
# no name = HTTP/1 (knative.dev/serving validateContainerPorts).
KNATIVE_PORT_NAMES = ("h2c", "http1")
GRPC_PROTOCOLS = ("grpc-v1", "grpc-v2")


def _check_port_name(value: str) -> str:
    if not _PORT_NAME.fullmatch(value) or "--" in value or not re.search(r"[a-z]", value):
        raise ValueError(
            f"{value!r} is not a valid port name: at most 15 lower-case letters, digits and '-', with at least one "
            "letter, no leading, trailing or double '-' (e.g. h2c, http1, grpc-port)"
        )
    return value


class ServingPort(StrictModel):
    """One port the predictor container listens on (a Kubernetes `containerPort`)."""

    name: Annotated[str, AfterValidator(_check_port_name)] | None = Field(
        None, description="Port name; gRPC: h2c in Knative mode, grpc... or h2c in Standard mode."
    )
    container_port: int = Field(
        ge=1, le=65535, description="Port number the server listens on; the first port is the one KServe serves."
    )
    protocol: Literal["TCP"] = Field("TCP", description="TCP (the only protocol KServe serves).")

    @property
    def is_grpc(self) -> bool:
        # KServe's own test (service_reconciler.go isGrpcPort, httproute_reconciler.go): the name carries "grpc"
        # or "h2c"; such a port gets appProtocol kubernetes.io/h2c and an HTTP/2 route.
        return self.name is not None and ("grpc" in self.name or "h2c" in self.name)

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.name is not None:
            out["name"] = self.name
        out["containerPort"] = self.container_port
        out["protocol"] = self.protocol
        return out


def _distinct_ports(ports: list[ServingPort]) -> list[ServingPort]:
    numbers = [port.container_port for port in ports]
    names = [port.name for port in ports if port.name is not None]
    if len(set(numbers)) != len(numbers):
        raise ValueError("each containerPort may appear once (the API server rejects duplicate container ports)")
    if len(set(names)) != len(names):
        raise ValueError("each port name may appear once (the API server rejects duplicate port names)")
    if not ports:
        raise ValueError("list at least one port, or leave ports out")
    return ports


PortList = Annotated[list[ServingPort], AfterValidator(_distinct_ports)]

# ---------------------------------------------------------------------------------------------------------------
# The storage spec's shared fields (model `storage` and logger `storage`)

# Overrides of the `storage-config` entry's settings (type, bucket, endpoint, region...): each key and value is one
# token the storage initializer / logger reads as a setting, so whitespace in either is a typo, never meaning.
StorageParameters = dict[Token, Token]
# A location inside the storage (`bucket/dir/model.joblib`).
StoragePath = Token

# ---------------------------------------------------------------------------------------------------------------
# Request/response logging (`logger`)

# An HTTP header field name (RFC 9110 section 5.1: a `token`), as KServe's logger matches request headers.
_HEADER_NAME = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")


def _check_header_name(value: str) -> str:
    if not _HEADER_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an HTTP header name: letters, digits and !#$%&'*+-.^_`|~ only (e.g. X-Request-Id)"
        )
    return value


HeaderName = Annotated[str, AfterValidator(_check_header_name)]


class LoggerStorage(StrictModel):
    """Where the logger writes (blob storage) instead of posting to a URL: credentials from the `storage-config`
    Secret entry `key`, as for the model storage spec."""

    key: ConfigMapKey | None = Field(None, description="Entry of the storage-config Secret to write with.")
    path: StoragePath | None = Field(None, description="Path inside the storage.")
    parameters: StorageParameters | None = Field(None, description="Overrides of the storage entry.")
    service_account_name: DnsLabel | None = Field(None, description="ServiceAccount the agent writes as.")


class LoggerConfig(StrictModel):
    """`predictor.logger`: KServe's agent sidecar copies requests and/or responses as CloudEvents."""

    mode: Literal["all", "request", "response"] = Field(
        "all", description="What KServe's agent logs: all, request or response."
    )
    url: str | None = Field(
        None,
        description=(
            "Where the events go; unset: the cluster default (`logger.defaultUrl` of the "
            "inferenceservice-config ConfigMap)."
        ),
    )
    storage: LoggerStorage | None = Field(
        None,
        description=(
            "Write the log to blob storage: {key, path, parameters, serviceAccountName} (key, path "
            "and parameters together, as KServe requires)."
        ),
    )
    metadata_headers: list[HeaderName] = Field(
        default_factory=list, description="Request headers / InferenceService annotations copied into each event."
    )
    metadata_annotations: list[AnnotationKey] = Field(
        default_factory=list, description="InferenceService annotations copied into each log record."
    )

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.url is not None:
            out["url"] = self.url
        if self.storage is not None:
            out["storage"] = self.storage.model_dump(by_alias=True, exclude_none=True)
        if self.metadata_headers:
            out["metadataHeaders"] = list(self.metadata_headers)
        if self.metadata_annotations:
            out["metadataAnnotations"] = list(self.metadata_annotations)
        return out


# Where KServe's logger can send (pkg/logger/store.go GetStorageStrategy): HTTP(S) CloudEvents, or blob storage.
_LOGGER_URL = re.compile(r"(https?|s3a?|gs|abfss?)://\S+")

# ---------------------------------------------------------------------------------------------------------------
# Rollout strategy (`deploymentStrategy`, Standard mode)

_PERCENT = re.compile(r"(0|[1-9][0-9]*)%")


def _int_or_percent(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number or a percentage such as '25%', got {value!r}")
    if isinstance(value, int):
        if not 0 <= value <= INT32_MAX:
            raise ValueError(f"{value} must be between 0 and {INT32_MAX}")
        return value
    if isinstance(value, str):
        if value.isdigit():
            # The CRD keeps "1" a string; Kubernetes reads a string as a percentage only with '%'.
            raise ValueError(f"{value!r} is a string without '%': write {value} (a number) or '{value}%'")
        if not _PERCENT.fullmatch(value):
            raise ValueError(f"{value!r} is not a whole number or a percentage such as '25%'")
        return value
    raise ValueError(f"must be a whole number or a percentage such as '25%', got {value!r}")


IntOrPercent = Annotated[int | str, BeforeValidator(_int_or_percent)]


def _is_zero(value: int | str | None) -> bool:
    return value in (0, "0%")


class RollingUpdate(StrictModel):
    max_surge: IntOrPercent | None = Field(
        None,
        description=(
            'Extra pods during a rollout: a whole number or "N%" (not both 0; a bare "1" string is '
            "refused, as the API server refuses it)."
        ),
    )
    max_unavailable: IntOrPercent | None = Field(
        None, description='Pods that may be unavailable during a rollout: a whole number or "N%".'
    )


class DeploymentStrategy(StrictModel):
    """`predictor.deploymentStrategy`: how the predictor Deployment replaces its pods (a Kubernetes
    DeploymentStrategy)."""

    type: Literal["RollingUpdate", "Recreate"] = Field("RollingUpdate", description="RollingUpdate or Recreate.")
    rolling_update: RollingUpdate | None = Field(None, description="RollingUpdate only: {maxSurge, maxUnavailable}.")

    @model_validator(mode="after")
    def _kubernetes_rules(self) -> DeploymentStrategy:
        # k8s.io/kubernetes pkg/apis/apps/validation ValidateDeploymentStrategy / ValidateRollingUpdateDeployment.
        rolling = self.rolling_update
        if self.type == "Recreate" and rolling is not None:
            raise ValueError("type Recreate takes no rollingUpdate (the API server rejects it); remove rollingUpdate")
        if rolling is not None:
            if _is_zero(rolling.max_surge) and _is_zero(rolling.max_unavailable):
                raise ValueError("maxSurge and maxUnavailable may not both be 0: the rollout could never make progress")
            unavailable = rolling.max_unavailable
            if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
                raise ValueError(f"maxUnavailable {unavailable} must not exceed 100%")
        return self

    def manifest(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.rolling_update is not None:
            out["rollingUpdate"] = self.rolling_update.model_dump(by_alias=True, exclude_none=True)
        return out


# ---------------------------------------------------------------------------------------------------------------
# Structured autoscaling (`autoScaling`: HPA or KEDA)

MetricTargetType = Literal["Utilization", "Value", "AverageValue"]
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]


class MetricTarget(StrictModel):
    type: MetricTargetType = Field(description="Utilization, AverageValue or Value.")
    value: Quantity | None = Field(None, description="Target value (External/PodMetric need it).")
    average_value: Quantity | None = Field(None, description="Target average per pod, a Kubernetes quantity.")
    average_utilization: Int32 | None = Field(None, description="Target utilisation percentage.")


class ResourceMetricSource(StrictModel):
    name: Literal["cpu", "memory"] = Field(description="cpu or memory.")
    target: MetricTarget = Field(description="cpu: Utilization; memory: AverageValue (>= 1Mi) or Utilization.")


class ExternalMetric(StrictModel):
    backend: Literal["prometheus", "graphite"] = Field(
        "prometheus", description="Metrics backend: prometheus, graphite or influxdb."
    )
    server_address: Token | None = Field(None, description="Address of the metrics backend.")
    # The backend's query language (PromQL...): free text, in which a newline is whitespace.
    query: str = Field("", description="Query that yields the metric (required).")
    namespace: DnsLabel | None = Field(None, description="Namespace the query runs in, where the backend has one.")


class SecretRef(StrictModel):
    name: DnsLabel = Field(description="Name of the referenced object.")


class ExternalMetricAuthentication(StrictModel):
    authentication_ref: SecretRef = Field(description="Name of the KEDA TriggerAuthentication.")
    auth_modes: Literal["bearer", "basic", "tls"] | None = Field(
        None, description="Authentication modes the backend uses (e.g. basic, bearer)."
    )


class ExternalMetricSource(StrictModel):
    metric: ExternalMetric = Field(description="The metric: {backend, serverAddress, query, namespace}.")
    authentication_ref: ExternalMetricAuthentication | None = Field(
        None, description="KEDA TriggerAuthentication to query the backend with."
    )
    target: MetricTarget = Field(description="Target for the metric (value required).")


# A metric name as the OpenTelemetry collector or Prometheus spells it (OpenTelemetry instrument names and Prometheus
# metric names: letters, digits and `_.:/-`, not starting with a digit).
_METRIC_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_.:/-]*")


def _check_metric_name(value: str) -> str:
    if len(value) > 255 or not _METRIC_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a metric name: at most 255 letters, digits and '_', '.', ':', '/', '-', not starting "
            "with a digit (e.g. process_cpu_seconds_total)"
        )
    return value


MetricName = Annotated[str, AfterValidator(_check_metric_name)]


class PodMetric(StrictModel):
    backend: Literal["opentelemetry"] = Field("opentelemetry", description="Metrics backend: opentelemetry.")
    server_address: Token | None = Field(None, description="Address of the OpenTelemetry collector.")
    metric_names: list[MetricName] = Field(default_factory=list, description="Names of the metrics the query reads.")
    query: str = Field("", description="Query that yields the metric (required).")
    operation_over_time: Literal["last_one", "avg", "max", "min", "rate", "count"] | None = Field(
        None, description="How samples are combined over time: last_one, avg, max, min, rate, count."
    )


class PodMetricSource(StrictModel):
    metric: PodMetric = Field(
        description="The metric: {backend, serverAddress, metricNames, query, operationOverTime}."
    )
    target: MetricTarget = Field(description="Target for the metric (value required).")


MetricSourceType = Literal["Resource", "External", "PodMetric"]
# The member of a metric entry that goes with each `type` (component.go MetricsSpec).
METRIC_MEMBER: dict[str, str] = {"Resource": "resource", "External": "external", "PodMetric": "podmetric"}


class MetricSpec(StrictModel):
    type: MetricSourceType = Field(description="Resource, External or PodMetric.")
    resource: ResourceMetricSource | None = Field(None, description="type Resource: {name: cpu|memory, target}.")
    external: ExternalMetricSource | None = Field(
        None, description="type External (keda): {metric, target, authenticationRef}."
    )
    podmetric: PodMetricSource | None = Field(None, description="type PodMetric (keda): {metric, target}.")

    @model_validator(mode="after")
    def _one_source(self) -> MetricSpec:
        # "only `type` and one other matching field should be set at once" (component.go MetricsSpec).
        wanted = METRIC_MEMBER[self.type]
        extra = sorted(member for member in METRIC_MEMBER.values() if member != wanted and getattr(self, member))
        if extra:
            raise ValueError(f"a {self.type} metric takes '{wanted}' only; remove {', '.join(extra)}")
        return self


class ScalingPolicy(StrictModel):
    type: Literal["Pods", "Percent"] = Field(description="Pods or Percent.")
    value: int = Field(ge=1, le=INT32_MAX, description="How many pods (or percent) may change per period (> 0).")
    period_seconds: int = Field(ge=1, le=1800, description="Length of the period in seconds (1..1800).")


class ScalingRules(StrictModel):
    policies: list[ScalingPolicy] = Field(
        default_factory=list, description="Scaling policies: [{type: Pods|Percent, value, periodSeconds}]."
    )
    select_policy: Literal["Max", "Min", "Disabled"] | None = Field(
        None, description="Which policy applies when several do: Max, Min or Disabled."
    )
    stabilization_window_seconds: int | None = Field(
        default=None, ge=0, le=3600, description="Seconds of past recommendations considered (0..3600)."
    )
    tolerance: Quantity | None = Field(None, description="Ratio of metric change below which no scaling happens.")


class ScalingBehavior(StrictModel):
    scale_up: ScalingRules | None = Field(None, description="Rules for scaling up.")
    scale_down: ScalingRules | None = Field(None, description="Rules for scaling down.")


class AutoScalingConfig(StrictModel):
    """`predictor.autoScaling`: the metrics the HPA or KEDA scales on, and the HPA scaling behaviour."""

    metrics: list[MetricSpec] = Field(
        default_factory=list,
        description=(
            "Metrics to scale on: [{type, resource|external|podmetric}] as KServe spells them. hpa: "
            "Resource metrics only, cpu as Utilization; keda: Resource, External, PodMetric."
        ),
    )
    behavior: ScalingBehavior | None = Field(
        None, description="keda only: scaleUp/scaleDown rules (KServe's HPA ignores behavior)."
    )

    def manifest(self) -> dict[str, Any]:
        return _without_empty_lists(self.model_dump(by_alias=True, exclude_none=True))


def _without_empty_lists(value: Any) -> Any:
    # Unset list keys (policies, metricNames) stay out of the object rather than appearing as [].
    if isinstance(value, dict):
        return {key: _without_empty_lists(item) for key, item in value.items() if item != []}
    if isinstance(value, list):
        return [_without_empty_lists(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------------------------
# The storage spec (`storage`: a key of the `storage-config` Secret instead of a storageUri)

# The Secret KServe reads storage-spec credentials from (constants.DefaultStorageSpecSecret).
STORAGE_SPEC_SECRET = "storage-config"
# Types the storage spec can fetch (pkg/credentials SupportedStorageSpecTypes).
STORAGE_SPEC_TYPES = ("s3", "hdfs", "webhdfs")


class ModelStorage(StrictModel):
    """`model.storage`: where the artifact is, as a `storage-config` Secret entry plus a path in it."""

    key: ConfigMapKey | None = Field(
        None,
        description=(
            "Entry of the storage-config Secret in the model's namespace (JSON with type "
            "s3/hdfs/webhdfs, endpoint, credentials; the Secret is yours to create)."
        ),
    )
    path: StoragePath | None = Field(None, description="The artifact inside that storage.")
    parameters: StorageParameters | None = Field(None, description="Overrides of the storage entry (e.g. bucket).")
    schema_path: StoragePath | None = Field(
        None, description="Path of the model's input/output schema inside the storage."
    )

    def manifest(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


# ---------------------------------------------------------------------------------------------------------------
# The batcher (`batcher`)


class BatcherConfig(StrictModel):
    """`predictor.batcher`: KServe's agent sidecar groups V1 `instances` of concurrent requests into one call."""

    max_batch_size: int | None = Field(default=None, ge=1, le=INT32_MAX, description="Largest batch the sidecar forms.")
    max_latency: int | None = Field(
        default=None, ge=1, le=INT32_MAX, description="Milliseconds the batcher waits for a batch to fill."
    )
    timeout: int | None = Field(default=None, ge=1, le=INT32_MAX, description="Seconds a batched call may take.")

    def manifest(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


# ---------------------------------------------------------------------------------------------------------------
# Runtime image tag (`runtimeVersion`)

# A Docker tag (distribution/reference tag grammar; Go's `\w` is ASCII-only, Python's is not).
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def _check_runtime_version(value: str) -> str:
    if not _IMAGE_TAG.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an image tag: letters, digits, '_', '.', '-', at most 128, e.g. 1.7.1 (the runtime "
            "image's tag KServe substitutes)"
        )
    if value == "latest":
        raise ValueError("'latest' is a moving tag: pin the runtime image version, e.g. runtimeVersion: 1.7.1")
    return value


RuntimeVersion = Annotated[str, AfterValidator(_check_runtime_version)]

# Knative's default `max-revision-timeout-seconds` (config-defaults): a longer revision timeout is rejected.
KNATIVE_MAX_TIMEOUT_SECONDS = 600
# Knative's default `container-concurrency-max-limit` (config-defaults): a higher containerConcurrency is rejected.
KNATIVE_MAX_CONTAINER_CONCURRENCY = 1000


# ---------------------------------------------------------------------------------------------------------------
# Rules spanning several keys of one model entry, per deployment mode


def predictor_issues(model: ModelConfig, mode: str) -> Iterator[Issue]:
    """Every rule of this module for one model entry (paths relative to the entry)."""
    who = f"model '{model.namespace}/{model.name}'"
    yield from _port_issues(model, mode, who)
    yield from _logger_issues(model, who)
    yield from _strategy_issues(model, mode, who)
    yield from _autoscaling_issues(model, mode, who)
    yield from _knative_issues(model, mode, who)
    yield from _storage_issues(model, who)
    yield from _batcher_issues(model, who)


def _port_issues(model: ModelConfig, mode: str, who: str) -> Iterator[Issue]:
    if model.ports is not None and model.port is not None:
        yield ("ports",), f"{who}: set either port (one unnamed port) or ports (named ports), not both"
        return
    ports = model.ports
    grpc = model.protocol in GRPC_PROTOCOLS
    if ports is None:
        if grpc:
            name = "h2c" if mode == "Knative" else "grpc"
            example = f"[{{name: {name}, containerPort: 9000}}]"
            yield (
                ("protocolVersion",),
                (
                    f"{who}: {model.protocol} needs the gRPC port declared, or KServe routes HTTP/1 to the HTTP port: "
                    f"add ports: {example} (MLServer's gRPC port is 9000 in KServe's runtime)"
                ),
            )
        return
    served = ports[0]
    if mode == "Knative":
        if len(ports) > 1:
            yield (
                ("ports",),
                f"{who}: Knative serves exactly one container port ({len(ports)} listed); keep the served one",
            )
        if served.name is not None and served.name not in KNATIVE_PORT_NAMES:
            yield (
                ("ports", 0, "name"),
                (
                    f"{who}: Knative reads the protocol from the port name: use h2c (gRPC, HTTP/2) or http1, not "
                    f"{served.name!r}"
                ),
            )
    # With v1/v2 the port name alone picks the transport (KServe's own gRPC examples: protocolVersion v2 and a port
    # named h2c); a grpc-* protocol must be served on a port KServe routes as HTTP/2.
    if grpc and not served.is_grpc:
        name = "h2c" if mode == "Knative" else "grpc (or h2c)"
        yield (
            ("ports", 0, "name"),
            f"{who}: protocolVersion {model.protocol} is served on the first port, so name it {name}",
        )


def _logger_issues(model: ModelConfig, who: str) -> Iterator[Issue]:
    logger = model.logger
    if logger is None:
        return
    if logger.url is not None and not _LOGGER_URL.fullmatch(logger.url):
        yield (
            ("logger", "url"),
            (
                f"{who}: {logger.url!r} is not a URL KServe's logger sends to: http(s)://..., or s3://, gs://, "
                "abfs:// with storage"
            ),
        )
    storage = logger.storage
    if storage is not None:
        # webhook/component.go validateLogger: storage needs path, parameters and key together.
        missing = [key for key in ("key", "path", "parameters") if getattr(storage, key) is None]
        if missing:
            yield (
                ("logger", "storage"),
                (
                    f"{who}: KServe's webhook rejects a logger storage without {', '.join(missing)} ('invalid logger "
                    "storage configuration'): set key (the storage-config Secret entry), path and parameters"
                ),
            )
    if logger.url is not None and logger.url.split("://", 1)[0] not in ("http", "https") and storage is None:
        yield (
            ("logger", "storage"),
            f"{who}: logger url {logger.url!r} is blob storage: add storage (key, path, parameters) to write there",
        )


def _strategy_issues(model: ModelConfig, mode: str, who: str) -> Iterator[Issue]:
    if model.deployment_strategy is not None and mode == "Knative":
        # validateScalingKPACompExtension.
        yield (
            ("deploymentStrategy",),
            (
                f"{who}: KServe supports deploymentStrategy only in Standard mode (Knative rolls out revisions); "
                "remove it or set kserve.deploymentMode: Standard"
            ),
        )


def _autoscaling_issues(model: ModelConfig, mode: str, who: str) -> Iterator[Issue]:
    spec = model.auto_scaling
    if spec is None:
        return
    if mode == "Knative":
        yield (
            ("autoScaling",),
            (
                f"{who}: autoScaling configures the HPA or KEDA of Standard mode; Knative's autoscaler ignores it: "
                "use scaleMetric (concurrency or rps) and scaleTarget"
            ),
        )
        return
    scaler = model.autoscaler_class or "hpa"
    if scaler in ("external", "none"):
        yield (("autoScaling",), f"{who}: has no effect with autoscalerClass {scaler}: KServe creates no autoscaler")
        return
    if model.scale_metric is not None or model.scale_target is not None:
        yield (
            ("autoScaling",),
            f"{who}: set either autoScaling (metrics) or scaleMetric/scaleTarget, not both: KServe uses autoScaling",
        )
    if not spec.metrics:
        yield (("autoScaling", "metrics"), f"{who}: list at least one metric to scale on")
    if scaler == "hpa" and spec.behavior is not None:
        # hpa_reconciler.go createHPA sets an empty behavior; only the KEDA reconciler applies autoScaling.behavior.
        yield (
            ("autoScaling", "behavior"),
            (
                f"{who}: KServe's HPA ignores autoScaling.behavior (it creates the HPA with an empty behavior); "
                "only autoscalerClass keda applies it: remove behavior or use keda"
            ),
        )
    for index, metric in enumerate(spec.metrics):
        where: tuple[str | int, ...] = ("autoScaling", "metrics", index)
        member = METRIC_MEMBER[metric.type]
        if getattr(metric, member) is None:
            yield (*where, member), f"{who}: a {metric.type} metric needs '{member}'"
            continue
        if scaler == "hpa":
            yield from _hpa_metric_issues(metric, where, who)
        else:
            yield from _keda_metric_issues(metric, where, who)


def _hpa_metric_issues(metric: MetricSpec, where: tuple[str | int, ...], who: str) -> Iterator[Issue]:
    # validateScalingHPACompExtension: the HPA scales on Resource metrics only.
    if metric.type != "Resource":
        yield (
            (*where, "type"),
            (f"{who}: KServe's HPA scales on Resource metrics only; {metric.type} metrics need autoscalerClass: keda"),
        )
        return
    assert metric.resource is not None
    target = metric.resource.target
    if metric.resource.name == "cpu" and target.type != "Utilization":
        # hpa_reconciler.go getHPAMetrics: a cpu metric always becomes a Utilization target (80% when unset).
        yield (
            (*where, "resource", "target", "type"),
            (
                f"{who}: KServe's HPA scales cpu on Utilization only (an {target.type} target would silently become "
                "80% utilisation): use type Utilization with averageUtilization"
            ),
        )
        return
    yield from _target_issues(target, (*where, "resource", "target"), who)


def _keda_metric_issues(metric: MetricSpec, where: tuple[str | int, ...], who: str) -> Iterator[Issue]:
    # validateScalingKedaCompExtension.
    if metric.resource is not None:
        target = metric.resource.target
        at = (*where, "resource", "target")
        if metric.resource.name == "cpu" and target.type != "Utilization":
            yield (*at, "type"), f"{who}: KServe's KEDA rule: a cpu target is of type Utilization"
        if metric.resource.name == "memory":
            if target.type not in ("AverageValue", "Utilization"):
                yield (*at, "type"), f"{who}: KServe's KEDA rule: a memory target is AverageValue or Utilization"
            if (
                target.type == "AverageValue"
                and target.average_value is not None
                and parse_quantity(target.average_value) < Decimal(2**20)
            ):
                yield (
                    (*at, "averageValue"),
                    f"{who}: {target.average_value}: KServe requires a memory target of at least 1Mi",
                )
        yield from _target_issues(target, at, who)
    for source, member in ((metric.external, "external"), (metric.podmetric, "podmetric")):
        if source is None:
            continue
        if not source.metric.query.strip():
            yield (*where, member, "metric", "query"), f"{who}: KServe requires the metric query (it must not be empty)"
        if source.target.value is None:
            yield (
                (*where, member, "target", "value"),
                f"{who}: KServe requires target.value (the threshold) for a {metric.type} metric",
            )
        else:
            yield from _target_issues(source.target, (*where, member, "target"), who)


def _target_issues(target: MetricTarget, at: tuple[str | int, ...], who: str) -> Iterator[Issue]:
    # validateScaleTarget: the member matching the target type is set; utilisation is 1..100.
    member = {"Utilization": "averageUtilization", "AverageValue": "averageValue", "Value": "value"}[target.type]
    value = {"Utilization": target.average_utilization, "AverageValue": target.average_value, "Value": target.value}[
        target.type
    ]
    if value is None:
        yield (*at, member), f"{who}: a target of type {target.type} needs {member}"
    elif target.type == "Utilization" and not 1 <= int(value) <= 100:
        yield (*at, member), f"{who}: {value}: the target utilisation is a percentage, 1 to 100"


def _knative_issues(model: ModelConfig, mode: str, who: str) -> Iterator[Issue]:
    if model.container_concurrency is not None and mode != "Knative":
        yield (
            ("containerConcurrency",),
            (
                f"{who}: containerConcurrency is Knative's hard per-pod request limit; Standard mode has no "
                "queue-proxy to enforce it: remove it, or use kserve.deploymentMode: Knative"
            ),
        )
    concurrency = model.container_concurrency
    if concurrency is not None and mode == "Knative" and concurrency > KNATIVE_MAX_CONTAINER_CONCURRENCY:
        yield (
            ("containerConcurrency",),
            (
                f"{who}: {concurrency} exceeds Knative's container-concurrency-max-limit "
                f"({KNATIVE_MAX_CONTAINER_CONCURRENCY} by default); Knative rejects the revision (0 means unlimited)"
            ),
        )
    if model.timeout is not None and mode == "Knative" and model.timeout > KNATIVE_MAX_TIMEOUT_SECONDS:
        yield (
            ("timeout",),
            (
                f"{who}: {model.timeout}s exceeds Knative's max-revision-timeout-seconds "
                f"({KNATIVE_MAX_TIMEOUT_SECONDS} by default); Knative rejects the revision"
            ),
        )


def _storage_issues(model: ModelConfig, who: str) -> Iterator[Issue]:
    storage = model.storage
    if storage is None:
        return
    if model.storage_uri is not None:
        yield (
            ("storage",),
            f"{who}: set either storageUri or storage (a {STORAGE_SPEC_SECRET} Secret entry and a path), not both",
        )
    if storage.path is None:
        # components/component.go addStorageSpecAnnotations: without a path the storage initializer has no source.
        yield (("storage", "path"), f"{who}: the storage spec needs path, the artifact's location inside the storage")
    kind = (storage.parameters or {}).get("type")
    if kind is not None and kind not in STORAGE_SPEC_TYPES:
        yield (
            ("storage", "parameters", "type"),
            (
                f"{who}: {kind!r}: KServe's storage spec fetches {', '.join(STORAGE_SPEC_TYPES)} only "
                "(pkg/credentials SupportedStorageSpecTypes); use storageUri for other storage"
            ),
        )


def _batcher_issues(model: ModelConfig, who: str) -> Iterator[Issue]:
    if model.batcher is None:
        return
    if model.protocol != "v1":
        # KServe's batcher (pkg/batcher/handler.go) reads and splits V1 `instances`; other protocols pass unbatched
        # or fail.
        yield (
            ("batcher",),
            (
                f"{who}: KServe's batcher batches V1 requests ('instances') only, and this model speaks "
                f"{model.protocol}; for MLServer (V2) use mlserver.maxBatchSize and mlserver.maxBatchTime"
            ),
        )
    if model.mlserver is not None and (
        model.mlserver.max_batch_size is not None or model.mlserver.max_batch_time is not None
    ):
        yield (
            ("batcher",),
            (
                f"{who}: set either batcher (KServe's sidecar) or mlserver.maxBatchSize/maxBatchTime (MLServer's), "
                "not both"
            ),
        )
