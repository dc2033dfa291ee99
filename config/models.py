"""`models`: one entry per model, each deployed as one KServe InferenceService.

An entry takes exactly one of two forms, as in KServe's own docs for MLServer:
- built-in runtime: `format` (+ `storageUri`), served by KServe's MLServer runtime (`kserve-mlserver`);
- custom MLServer image: `image` (built with `mlserver build`), run as the predictor container.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from config.base import StrictModel

# A Pulumi custom timeout (Go duration syntax as the engine parses it): one definition for install and models.
from config.kserve import Duration
from config.kserve_admission import (
    DEFAULT_MIN_REPLICAS,
    PROGRAM_ANNOTATIONS,
    default_canary_name,
    defaulted_request_above_limit,
    predictor_service_name,
)
from config.kubernetes import (
    DNS1123_LABEL_MAX,
    AnnotationMap,
    DnsLabel,
    DnsSubdomain,
    EnvList,
    EnvVar,
    Int32,
    LabelMap,
    ResourceRequirements,
    Toleration,
)
from config.predictor import (
    AutoScalingConfig,
    BatcherConfig,
    DeploymentStrategy,
    LoggerConfig,
    ModelStorage,
    PortList,
    RuntimeVersion,
    predictor_issues,
)
from config.scheduling import Affinity
from config.storage import storage_uri_problem

# KServe webhook: InferenceService names must be DNS-1035 labels.
ISVC_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
# A model format name as runtimes declare it in supportedModelFormats (sklearn, xgboost, lightgbm, mlflow, or a
# custom runtime's own format); which names are servable is checked against the runtimes (config/runtimes.py).
ModelFormat = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")]
ProtocolVersion = Literal["v1", "v2", "grpc-v1", "grpc-v2"]
# Default protocol: the seed deploys on MLServer, which speaks only the V2 (Open Inference) protocol.
DEFAULT_PROTOCOL: ProtocolVersion = "v2"
# KServe's custom-container convention: the predictor listens on 8080 and reads its protocol from PROTOCOL.
DEFAULT_CUSTOM_PORT = 8080
CUSTOM_PROTOCOLS = ("v1", "v2")
# Keys that belong to only one of the two forms, with the form they belong to.
BUILTIN_ONLY = ("format", "formatVersion", "protocolVersion", "runtime", "runtimeVersion", "storage")
CUSTOM_ONLY = ("image", "port", "modelName")

Issue = tuple[tuple[str | int, ...], str]

# `serving.kserve.io/autoscalerClass` values KServe accepts (Standard mode).
AutoscalerClass = Literal["hpa", "keda", "external", "none"]
ScaleMetric = Literal["cpu", "memory", "concurrency", "rps"]
# How long `pulumi up` waits for an InferenceService to become Ready when the stack sets no other default.
DEFAULT_READINESS_TIMEOUT = "15m"


def check_isvc_name(value: str) -> str:
    if not ISVC_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid InferenceService name: start with a lower-case letter, then lower-case "
            "letters, digits or '-', ending with a letter or digit (KServe rejects anything else)"
        )
    return value


def _check_image(value: str) -> str:
    if not value or any(ch.isspace() for ch in value):
        raise ValueError(f"{value!r} is not a container image reference")
    name = value.split("@", 1)[0]
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else None
    if "@" not in value and tag is None:
        raise ValueError(f"{value!r} has no tag: pin the image, e.g. {value}:0.1.0 or {value}@sha256:<digest>")
    if tag == "latest":
        raise ValueError(f"{value!r} uses the moving tag 'latest': pin a version tag or a digest")
    return value


def _fetchable(uri: str | None, info: ValidationInfo) -> str | None:
    prefixes = (info.context or {}).get("extra_storage_uri_prefixes", ())
    problem = storage_uri_problem(uri, prefixes) if uri is not None else None
    if problem:
        raise ValueError(problem)
    return uri


IsvcName = Annotated[str, AfterValidator(check_isvc_name)]
ImageRef = Annotated[str, AfterValidator(_check_image)]


class MLServerTuning(StrictModel):
    """MLServer settings for this model; they reach the server as `MLSERVER_*` env, locally and on the cluster."""

    parallel_workers: int | None = Field(
        default=None,
        ge=0,
        description=("Inference worker processes (MLServer's `parallel_workers`; 0 serves in the main process)."),
    )
    max_batch_size: int | None = Field(
        default=None, ge=1, description="Adaptive batching: group up to this many requests ..."
    )
    max_batch_time: float | None = Field(
        default=None, ge=0, description="... waiting at most this many seconds for a batch to fill."
    )
    model_version: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=63,
        description=(
            "The model version MLServer reports and also serves at /v2/models/<name>/versions/<version>/infer."
        ),
    )


class ModelRef(StrictModel):
    """A model's former identity (`renamedFrom`)."""

    name: IsvcName = Field(description="The model's name before the rename.")
    namespace: DnsLabel = Field(description="The model's namespace before the move.")

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def _check_predictor_name(value: str) -> str:
    # fullmatch: `$` alone would admit a trailing newline.
    if not ISVC_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid predictor name: start with a lower-case letter, then lower-case letters, digits "
            "or '-', ending with a letter or digit (KServe's `predictor.name` pattern)"
        )
    return value


PredictorName = Annotated[str, AfterValidator(_check_predictor_name)]
# Keys a canary may not set: KServe runs a canary at fixed replicas (validateCanarySpecs), key -> field name.
CANARY_FIXED_REPLICA_KEYS = {
    "maxReplicas": "max_replicas",
    "scaleMetric": "scale_metric",
    "scaleTarget": "scale_target",
    "autoScaling": "auto_scaling",
}


class CanaryConfig(StrictModel):
    """One entry of `canary` (Standard mode): a second predictor taking `trafficPercent` of the traffic.

    It is the model's own predictor with the fields set here replacing the model's (typically a new
    `storageUri`, `formatVersion` or `image` tag), minus the stable predictor's autoscaling: KServe runs a canary at
    fixed replicas, `minReplicas` (default: the stable minReplicas x trafficPercent / 100, rounded up).
    """

    name: PredictorName | None = Field(
        None,
        description=(
            "KServe's `predictor.name` of the canary: its Deployment and Service are "
            "`<model>-<name>-predictor`. Default: `canary` for the first entry, `canary-<n>` for the "
            "n-th (config/kserve_admission.py)."
        ),
    )
    traffic_percent: int = Field(
        ge=0,
        le=100,
        description=("Share of the model's traffic for this canary, 1..100 (all canaries together at most 100)."),
    )
    storage_uri: str | None = Field(None, description="Artifact of the canary, replacing the model's.")
    format_version: str | None = Field(None, description="Format version of the canary, replacing the model's.")
    runtime: DnsLabel | None = Field(None, description="Runtime of the canary, replacing the model's.")
    image: ImageRef | None = Field(None, description="Custom image of the canary, replacing the model's.")
    env: EnvList | None = Field(None, description="Environment of the canary, replacing the model's.")
    args: list[str] | None = Field(None, description="Container arguments of the canary, replacing the model's.")
    resources: ResourceRequirements | None = Field(None, description="Resources of the canary, replacing the model's.")
    min_replicas: Int32 | None = Field(
        default=None,
        ge=0,
        description=(
            "Fixed replicas of the canary, at most the model's; default: the model's minReplicas x "
            "trafficPercent / 100, rounded up."
        ),
    )
    max_replicas: Int32 | None = Field(
        None,
        description=(
            "Accepted only to be refused with KServe's reason (canaries run at fixed replicas): `fixed_replica_issues`."
        ),
    )
    scale_metric: ScaleMetric | None = Field(
        None, description="Refused: a canary runs at fixed replicas (set minReplicas)."
    )
    scale_target: Int32 | None = Field(None, description="Refused: a canary runs at fixed replicas (set minReplicas).")
    auto_scaling: dict | None = Field(None, description="Refused: a canary runs at fixed replicas (set minReplicas).")

    @field_validator("storage_uri")
    @classmethod
    def _fetchable_storage_uri(cls, uri: str | None, info: ValidationInfo) -> str | None:
        return _fetchable(uri, info)

    def predictor_name(self, index: int) -> str:
        return self.name or default_canary_name(index)

    def overrides(self) -> dict[str, object]:
        """Model field name -> value, for every model field this canary replaces."""
        kept = set(self.model_fields_set) - {"name", "traffic_percent", *CANARY_FIXED_REPLICA_KEYS.values()}
        return {name: getattr(self, name) for name in kept}

    def fixed_replica_keys(self) -> list[str]:
        return [key for key, name in CANARY_FIXED_REPLICA_KEYS.items() if name in self.model_fields_set]


class ModelDefaults(StrictModel):
    """`modelDefaults`: settings every model of the stack inherits unless it sets its own."""

    readiness_timeout: Duration = Field(
        DEFAULT_READINESS_TIMEOUT,
        description=("How long `pulumi up` waits for each InferenceService's condition Ready (90s, 10m, 1h30m)."),
    )


class ModelConfig(StrictModel):
    """One model of the stack; becomes one `serving.kserve.io/v1beta1` InferenceService."""

    name: IsvcName = Field(
        description=(
            "InferenceService name: lower-case letters, digits and '-', starting with a letter. "
            "Renaming replaces the model (see renamedFrom)."
        )
    )
    namespace: DnsLabel = Field(
        description=(
            "Namespace of the InferenceService; the stack creates it unless it is listed in kserve.existingNamespaces."
        )
    )

    format: ModelFormat | None = Field(
        None,
        description=(
            "A format some runtime supports: `sklearn`, `xgboost`, `lightgbm`, `mlflow` (built-ins) "
            "or a custom runtime's format."
        ),
    )
    format_version: str | None = Field(
        None,
        description=(
            'Model format version, e.g. `"1"` (matches a runtime\'s version exactly or as its major '
            "part: `1.5` -> `1`)."
        ),
    )
    protocol_version: ProtocolVersion | None = Field(
        None,
        description=(
            "`v1`, `v2`, `grpc-v1`, `grpc-v2` (MLServer speaks V2; **KServe's own default is `v1`**, "
            "see the config details). Default: `v2`."
        ),
    )
    runtime: DnsLabel | None = Field(
        None,
        description=(
            "Name a runtime explicitly: an enabled built-in (`kserve-mlserver`; "
            "`kserve-sklearnserver`, `kserve-xgbserver`, `kserve-lgbserver` when listed in "
            "`kserve.builtinRuntimes`) or one from `runtimes`. Default: auto-selected."
        ),
    )
    runtime_version: RuntimeVersion | None = Field(
        None,
        description=(
            "The runtime image tag for this model (KServe substitutes it), e.g. `1.7.1`; never "
            "`latest`. Default: the runtime's."
        ),
    )
    storage: ModelStorage | None = Field(
        None,
        description=(
            "Instead of `storageUri`: `{key, path, parameters, schemaPath}`; `key` names an entry of "
            "the `storage-config` Secret in the model's namespace (JSON with `type` "
            "`s3`/`hdfs`/`webhdfs`, endpoint, credentials; the Secret is yours to create), `path` the "
            "artifact inside that storage, `parameters` override the entry (e.g. `bucket`)."
        ),
    )

    image: ImageRef | None = Field(
        None,
        description=(
            "Pinned image reference (`repo:tag` or `repo@sha256:...`; never untagged or `latest`); "
            "without a registry host it is pulled from `customImages.registry`."
        ),
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="The port the server listens on (one unnamed port; or use `ports`). Default: `8080`.",
    )
    model_name: str | None = Field(
        None,
        description=(
            "The name the server registers the model under (its `model-settings.json` name): the V2 "
            "path. Default: the entry's `name`."
        ),
    )

    storage_uri: str | None = Field(
        None,
        description=(
            "Where the artifact is: `gs://`, `s3://`, `pvc://`, `file://`, `http(s)://`, `hdfs://`, "
            "`webhdfs://`, `oci://`, `oci+native://`, `hf://`; `oci://` and `oci+native://` images "
            "pinned (a tag other than `latest`, or a digest). Default: required unless `storage`. "
            "optional: KServe's storage initializer downloads it to `/mnt/models`."
        ),
    )
    ports: PortList | None = Field(
        None,
        description=(
            "`[{name, containerPort}]` (protocol TCP); the first is the port KServe serves. gRPC: "
            "name it `h2c` in Knative mode (Knative allows one port, named `h2c` or `http1`), "
            "`grpc...` or `h2c` in Standard mode (KServe routes it as HTTP/2); `protocolVersion: "
            "grpc-*` requires it. On MLServer the ports also set `MLSERVER_HTTP_PORT` / "
            "`MLSERVER_GRPC_PORT` (one HTTP and one gRPC port at most; those env vars are then "
            "refused in `env`). Default: the runtime's (8080)."
        ),
    )
    logger: LoggerConfig | None = Field(
        None,
        description=(
            "Request/response logging by KServe's agent sidecar: `mode` (`all` default, `request`, "
            "`response`), `url` (`http(s)://...`, or `s3://` / `gs://` / `abfs://` with `storage`; "
            "default: the cluster's `logger.defaultUrl`), `metadataHeaders`, `metadataAnnotations`, "
            "`storage` `{key, path, parameters, serviceAccountName}` to write to blob storage (key, "
            "path and parameters together, as KServe requires)."
        ),
    )
    deployment_strategy: DeploymentStrategy | None = Field(
        None,
        description=(
            "Standard mode only: `{type: RollingUpdate|Recreate, rollingUpdate: {maxSurge, "
            'maxUnavailable}}`, each a whole number or `"N%"` (not both 0; a bare `"1"` string is '
            "refused, as the API server refuses it). Default: Deployment default."
        ),
    )
    batcher: BatcherConfig | None = Field(
        None,
        description=(
            "KServe's batching sidecar: `{maxBatchSize, maxLatency (ms), timeout (s)}`; V1 models "
            "only (it splits V1 `instances`); for MLServer (V2) use `mlserver.maxBatchSize` / "
            "`maxBatchTime`, not both."
        ),
    )
    container_concurrency: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        description="Knative mode only: hard limit of concurrent requests per pod (>= 0). Default: unlimited.",
    )
    timeout: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description=(
            "Request timeout in seconds (Knative revision timeout, at most 600 by Knative's default; "
            "the HTTPRoute timeout in Standard mode). Default: the cluster's."
        ),
    )
    env: EnvList = Field(
        default_factory=list,
        description=(
            "A mapping `NAME: value`, or the Kubernetes list form with `valueFrom`; `PYTHONPATH` is "
            "refused, as KServe's webhook refuses it. Custom images: `PROTOCOL` must be `v1` or `v2` "
            "(default `PROTOCOL: v2`)."
        ),
    )
    args: list[str] = Field(default_factory=list, description="Container arguments.")
    resources: ResourceRequirements | None = Field(
        None,
        description=(
            "`requests`/`limits` of Kubernetes quantities; requests within limits; extended resources "
            "(`nvidia.com/gpu`, `amd.com/gpu`) whole numbers with request = limit. Default: KServe's "
            "runtime defaults."
        ),
    )
    min_replicas: Int32 | None = Field(
        default=None,
        ge=0,
        description=(
            "Minimum replicas; `minReplicas <= maxReplicas` unless `maxReplicas` is 0. Default: KServe's (1)."
        ),
    )
    max_replicas: Int32 | None = Field(
        default=None, ge=0, description="Maximum replicas; 0 means no upper bound. Default: KServe's (1)."
    )
    canary_traffic_percent: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Knative mode only, 0..100: the share of traffic for the latest revision.",
    )
    service_account_name: DnsSubdomain | None = Field(
        None, description="An existing ServiceAccount the predictor runs as (not with storageCredentials)."
    )
    node_selector: LabelMap = Field(
        default_factory=dict,
        description=("Node labels the predictor must run on, e.g. `cloud.google.com/gke-accelerator: nvidia-l4`."),
    )
    tolerations: list[Toleration] = Field(
        default_factory=list,
        description=(
            "Kubernetes tolerations (`key`, `operator` `Exists`/`Equal`, `value`, `effect`, `tolerationSeconds`)."
        ),
    )
    labels: LabelMap = Field(default_factory=dict, description="Labels on the InferenceService.")
    annotations: AnnotationMap = Field(default_factory=dict, description="Annotations on the InferenceService.")
    mlserver: MLServerTuning | None = Field(
        None,
        description=(
            "MLServer tuning: parallelWorkers, maxBatchSize, maxBatchTime (reach the pod as "
            "MLSERVER_* env, and `python -m cli serve` alike)."
        ),
    )

    affinity: Affinity | None = Field(
        None,
        description=(
            "`nodeAffinity`, `podAffinity`, `podAntiAffinity`, typed as Kubernetes spells them (a typo is an error)."
        ),
    )
    image_pull_secrets: list[DnsSubdomain] = Field(
        default_factory=list, description="Names of registry Secrets in the model's namespace."
    )
    automount_service_account_token: bool = Field(
        False,
        description=(
            "Mount the ServiceAccount token into predictor pods (off: predictors do not call the Kubernetes API)."
        ),
    )

    scale_metric: ScaleMetric | None = Field(
        None,
        description=(
            "Standard + `hpa`: `cpu` or `memory`; Knative: `concurrency` or `rps`. Default: `cpu` "
            "(Standard), `concurrency` (Knative)."
        ),
    )
    scale_target: Int32 | None = Field(
        default=None, ge=1, description="Target per replica for scaleMetric; with cpu a utilisation percentage 1..100."
    )
    autoscaler_class: AutoscalerClass | None = Field(
        None,
        description=(
            "Standard mode only: `hpa`, `keda` (no `scaleMetric`; may scale to zero), `external` or "
            "`none` (no `scaleMetric`/`scaleTarget`); set as the `serving.kserve.io/autoscalerClass` "
            "annotation. Default: `hpa`."
        ),
    )
    auto_scaling: AutoScalingConfig | None = Field(
        None,
        description=(
            "Standard mode, `hpa` (Resource metrics only, cpu as `Utilization`; KServe's HPA ignores "
            "`behavior`) or `keda` (Resource, External, PodMetric, `behavior`): `{metrics: [{type, "
            "resource|external|podmetric}], behavior}` as KServe spells it; not with "
            "`scaleMetric`/`scaleTarget`; KEDA: cpu targets `Utilization`, memory `AverageValue` >= "
            "1Mi or `Utilization`, External/PodMetric need `query` and `target.value`; never copied "
            "to canaries."
        ),
    )

    canary: list[CanaryConfig] = Field(
        default_factory=list,
        description=(
            "Standard mode only: list of `{trafficPercent, ...}`; each becomes a `spec.canary[]` "
            "predictor: this model with the canary's `storageUri`, `formatVersion`, `runtime`, "
            "`image`, `env`, `args`, `resources` replacing its own; traffic sum <= 100. A canary runs "
            "at fixed replicas: `minReplicas` (at most the model's; default: the model's "
            "`minReplicas` x `trafficPercent` / 100, rounded up), never `maxReplicas`, `scaleMetric`, "
            "`scaleTarget` or `autoScaling`, and none are inherited. `name` is its `predictor.name` "
            "(default `canary`, then `canary-2`, ...; KServe's Deployment and Service are "
            "`<model>-<name>-predictor`): set it before reordering canaries, or the rename replaces "
            "their Deployments. A custom image needs `storageUri` on the model to take canaries."
        ),
    )

    storage_credentials: DnsLabel | None = Field(
        None,
        description=(
            "Name of a `storageCredentials` entry in the same namespace: the predictor runs as its ServiceAccount."
        ),
    )
    readiness_timeout: Duration | None = Field(
        None,
        description=(
            "How long `pulumi up` waits for condition Ready (`90s`, `10m`, `1h30m`). Default: "
            "`modelDefaults.readinessTimeout`."
        ),
    )
    renamed_from: ModelRef | None = Field(
        None,
        description=(
            "Where this entry lived before a rename or namespace move: kept as a Pulumi alias so the "
            "change is planned as a create-before-delete replacement of the same resource, not an "
            "unrelated delete and create."
        ),
    )
    deploy: bool = Field(
        True,
        description=(
            "`false`: the entry is validated (and `python -m cli serve` serves it) but not declared "
            "on the cluster, e.g. a custom image not pushed yet. Setting it on a live model deletes "
            "that model, as removing the entry does."
        ),
    )

    @property
    def key(self) -> str:
        """`namespace/name`, how errors and KServe name the model."""
        return f"{self.namespace}/{self.name}"

    @property
    def is_custom_image(self) -> bool:
        return self.image is not None

    @property
    def protocol(self) -> str:
        """The inference protocol the predictor speaks."""
        if self.is_custom_image:
            return self.env_value("PROTOCOL") or DEFAULT_PROTOCOL
        return self.protocol_version or DEFAULT_PROTOCOL

    @property
    def container_port(self) -> int:
        """The port KServe serves: the first of `ports`, else `port`, else KServe's custom-container default."""
        if self.ports:
            return self.ports[0].container_port
        return self.port or DEFAULT_CUSTOM_PORT

    @property
    def is_multi_model(self) -> bool:
        """KServe serves a built-in predictor without storageUri or storage as multi-model (IsMMSPredictor): only a
        multi-model runtime takes it."""
        return not self.is_custom_image and self.storage_uri is None and self.storage is None

    @property
    def served_model_name(self) -> str:
        return self.model_name or self.name

    @property
    def inference_path(self) -> str:
        """The V2 (Open Inference Protocol) REST path clients POST to."""
        return f"/v2/models/{self.served_model_name}/infer"

    @field_validator("env")
    @classmethod
    def _protocol_env(cls, env: list[EnvVar]) -> list[EnvVar]:
        for var in env:
            if var.name == "PROTOCOL" and var.value not in CUSTOM_PROTOCOLS:
                raise ValueError(f"PROTOCOL must be one of {', '.join(CUSTOM_PROTOCOLS)} (KServe), got {var.value!r}")
        return env

    @field_validator("storage_uri")
    @classmethod
    def _fetchable_storage_uri(cls, uri: str | None, info: ValidationInfo) -> str | None:
        return _fetchable(uri, info)

    def env_value(self, name: str) -> str | None:
        for var in self.env:
            if var.name == name:
                return var.value
        return None

    def rule_issues(self) -> Iterator[Issue]:
        """KServe admission rules that span several keys of this entry (paths relative to the entry)."""
        given = {
            field.alias or name for name, field in type(self).model_fields.items() if name in self.model_fields_set
        }
        if self.format is None and self.image is None:
            yield (
                (),
                (
                    "set either 'format' (a built-in MLServer runtime: sklearn, xgboost, lightgbm, mlflow, with "
                    "'storageUri') or 'image' (a custom MLServer image)"
                ),
            )
        elif self.format is not None and self.image is not None:
            yield ("image",), "set either 'format' (built-in runtime) or 'image' (custom MLServer image), not both"
        elif self.is_custom_image:
            for key in sorted(given.intersection(BUILTIN_ONLY)):
                hint = " (set env PROTOCOL on a custom image)" if key == "protocolVersion" else ""
                yield (key,), f"applies only to built-in runtimes (entries with 'format'), not to 'image'{hint}"
        else:
            for key in sorted(given.intersection(CUSTOM_ONLY)):
                yield (key,), "applies only to custom images (entries with 'image'), not to 'format'"
        yield from self._replica_issues()
        yield from self._link_issues()
        yield from self._annotation_issues()
        yield from self._defaulted_resource_issues()
        yield from self._host_issues(predictor_service_name(self.name), ("name",))

    def _host_issues(self, service: str, where: tuple[str | int, ...]) -> Iterator[Issue]:
        host = f"{service}-{self.namespace}"
        if len(host) > DNS1123_LABEL_MAX:
            yield (
                where,
                (
                    f"'{host}' ({len(host)} characters) must fit in a {DNS1123_LABEL_MAX}-character DNS "
                    f"label, the host KServe builds from the predictor's Service '{service}' and the namespace; "
                    f"shorten it by {len(host) - DNS1123_LABEL_MAX}"
                ),
            )

    def _annotation_issues(self) -> Iterator[Issue]:
        """validateInferenceServiceAutoscaler and validateAutoScalingCompExtension read these annotations; the program
        sets them from typed keys (checked against KServe's rules), so a free-form annotation may not."""
        for key, owner in PROGRAM_ANNOTATIONS.items():
            if key in self.annotations:
                yield (
                    ("annotations", key),
                    f"the program sets this annotation from {owner}; remove it from annotations",
                )

    def _defaulted_resource_issues(self) -> Iterator[Issue]:
        """CustomPredictor.Default (setResourceRequirementDefaults) fills each cpu/memory request and limit a custom
        container leaves out with KServe's default (1 CPU, 2Gi); a request above the limit it ends up with makes the
        API server refuse the predictor's pods after `pulumi up` reported success."""
        if not self.is_custom_image or self.resources is None:
            return
        for defaulted, name, request, limit in defaulted_request_above_limit(self.resources.manifest()):
            given = "limits" if defaulted == "requests" else "requests"
            yield (
                ("resources", given, name),
                (
                    f"KServe fills the missing {defaulted}.{name} with its default, leaving request "
                    f"{request} above limit {limit} (the API server refuses the pods); set "
                    f"resources.{defaulted}.{name} too"
                ),
            )

    def _replica_issues(self) -> Iterator[Issue]:
        low, high = self.min_replicas, self.max_replicas
        if low is not None and high is not None and high != 0 and low > high:
            yield ("minReplicas",), f"minReplicas ({low}) must not exceed maxReplicas ({high})"

    def _link_issues(self) -> Iterator[Issue]:
        if self.storage_credentials is not None and self.service_account_name is not None:
            yield (
                ("serviceAccountName",),
                (
                    "set either storageCredentials (the program creates and uses its ServiceAccount) or "
                    "serviceAccountName (an existing ServiceAccount), not both"
                ),
            )
        if self.renamed_from is not None and self.renamed_from.key == f"{self.namespace}/{self.name}":
            yield ("renamedFrom",), "names this model itself; remove renamedFrom once the rename has been applied"

    def canary_model(self, canary: CanaryConfig) -> ModelConfig:
        """The predictor a canary entry runs: this model with the canary's fields replacing its own, without the
        stable predictor's autoscaling (KServe refuses it on a canary and runs the canary at fixed replicas) and
        without its minReplicas (KServe then sizes the canary from the stable minReplicas and trafficPercent)."""
        return self.model_copy(
            update={
                **canary.overrides(),
                "min_replicas": canary.min_replicas,
                # Every autoscaling field the model has, so a new one is never inherited by accident.
                **{name: None for name in CANARY_FIXED_REPLICA_KEYS.values() if name in type(self).model_fields},
                "canary": [],
                "canary_traffic_percent": None,
            }
        )

    def _canary_issues(self) -> Iterator[Issue]:
        """validateCanarySpecs, for the canary list the program emits (config/kserve_admission.py names them)."""
        total = sum(canary.traffic_percent for canary in self.canary)
        if total > 100:
            yield (
                ("canary",),
                f"trafficPercent of the canaries adds up to {total}; KServe allows at most 100",
            )
        if self.canary and self.is_custom_image and self.storage_uri is None:
            yield (
                ("canary",),
                (
                    "KServe runs a canary only beside a stable predictor with a model: set storageUri on "
                    "the model (the custom image then loads it from /mnt/models), or remove canary"
                ),
            )
        names: dict[str, int] = {}
        stable_min = DEFAULT_MIN_REPLICAS if self.min_replicas is None else self.min_replicas
        for index, canary in enumerate(self.canary):
            where: tuple[str | int, ...] = ("canary", index)
            name = canary.predictor_name(index)
            if name in names:
                yield (
                    (*where, "name"),
                    (
                        f"canary predictor name '{name}' is already used by canary[{names[name]}]; give "
                        "each canary its own name"
                    ),
                )
            else:
                names[name] = index
            yield from self._host_issues(predictor_service_name(self.name, name), (*where, "name"))
            for key in canary.fixed_replica_keys():
                yield (
                    (*where, key),
                    (
                        f"a canary runs at fixed replicas (KServe refuses {key} on a canary); remove it "
                        "and set minReplicas if the default (stable minReplicas x trafficPercent / 100, rounded up) "
                        "does not suit"
                    ),
                )
            if canary.min_replicas is not None and canary.min_replicas > stable_min:
                yield (
                    (*where, "minReplicas"),
                    (
                        f"minReplicas ({canary.min_replicas}) must not exceed the stable predictor's "
                        f"minReplicas ({stable_min}); lower it or raise the model's minReplicas"
                    ),
                )
            given = canary.overrides()
            if not given:
                yield (
                    where,
                    (
                        "a canary must change something: set storageUri, formatVersion, runtime, image, "
                        "env, args, resources or minReplicas"
                    ),
                )
            if self.is_custom_image:
                for key in ("format_version", "runtime"):
                    if key in given:
                        alias = type(canary).model_fields[key].alias
                        yield (*where, alias), "applies only to models with 'format', not to 'image'"
                protocol = next((var.value for var in canary.env or [] if var.name == "PROTOCOL"), None)
                if protocol is not None and protocol not in CUSTOM_PROTOCOLS:
                    yield (
                        (*where, "env"),
                        (
                            f"PROTOCOL must be one of {', '.join(CUSTOM_PROTOCOLS)} (KServe's "
                            f"validateCustomProtocol), got {protocol!r}"
                        ),
                    )
            elif "image" in given:
                yield (*where, "image"), "applies only to models with 'image'; change storageUri or formatVersion"
            merged = self.canary_model(canary)
            if merged.is_custom_image and merged.resources is not None:
                for loc, message in merged._defaulted_resource_issues():
                    yield (*where, *loc), message

    def mode_issues(self, mode: str) -> Iterator[Issue]:
        """KServe's autoscaling and rollout rules for the stack's deployment mode (its webhook rules 6 and 8)."""
        yield from predictor_issues(self, mode)
        if mode == "Knative":
            if self.autoscaler_class is not None:
                yield (
                    ("autoscalerClass",),
                    (
                        "applies to Standard mode (it picks the scaler of the predictor Deployment); in Knative "
                        "mode the Knative Pod Autoscaler scales: remove autoscalerClass and use scaleMetric "
                        "concurrency or rps"
                    ),
                )
            if self.scale_metric in ("cpu", "memory"):
                yield (
                    ("scaleMetric",),
                    (f"{self.scale_metric} is not a Knative scale metric: use concurrency or rps in Knative mode"),
                )
            if self.canary:
                yield (
                    ("canary",),
                    (
                        "the canary list needs kserve.deploymentMode: Standard; in Knative mode set "
                        "canaryTrafficPercent on the model and change it in place (Knative keeps the previous revision)"
                    ),
                )
            return
        yield from self._canary_issues()
        scaler = self.autoscaler_class or "hpa"
        if scaler == "hpa":
            if self.scale_metric in ("concurrency", "rps"):
                yield (
                    ("scaleMetric",),
                    (
                        f"{self.scale_metric} needs Knative mode; Standard mode with autoscalerClass hpa scales on cpu "
                        "or memory"
                    ),
                )
            # validateScalingHPACompExtension tests `metric == cpu && target < 1 || target > 100`: Go binds && first,
            # so a target above 100 is refused for memory too.
            if self.scale_target is not None and self.scale_target > 100:
                yield (
                    ("scaleTarget",),
                    (
                        f"{self.scale_target}: with the hpa autoscaler KServe accepts a scaleTarget of 1 "
                        f"to 100 (a utilisation percentage) for scaleMetric {self.scale_metric or 'cpu'}"
                    ),
                )
            if self.min_replicas == 0:
                yield (
                    ("minReplicas",),
                    (
                        "0: Standard mode with the hpa autoscaler cannot scale to zero; set minReplicas >= 1 (scale to "
                        "zero needs Knative mode or autoscalerClass: keda)"
                    ),
                )
        elif scaler == "keda":
            if self.scale_metric is not None:
                yield (
                    ("scaleMetric",),
                    (
                        "KServe rejects scaleMetric with autoscalerClass keda (KEDA scales on its own triggers); "
                        "remove scaleMetric"
                    ),
                )
        else:
            for key, value in (("scaleMetric", self.scale_metric), ("scaleTarget", self.scale_target)):
                if value is not None:
                    yield (
                        (key,),
                        (f"has no effect with autoscalerClass {scaler}: KServe creates no autoscaler; remove it"),
                    )


def env_manifest(env: list[EnvVar]) -> list[dict]:
    return [var.manifest() for var in env]
