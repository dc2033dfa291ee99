"""One model of the stack as a KServe `InferenceService` (serving.kserve.io/v1beta1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.manifest import custom_resource
from components.predictor_spec import component_extension_fields, custom_container_ports, model_fields
from components.security import container_security_context, pod_security_context
from config.kserve_admission import (
    AUTOSCALER_CLASS_ANNOTATION,
    DEPLOYMENT_MODE_ANNOTATION,
    MODEL_FORMAT_ANNOTATION,
    PREDICTOR_CONTAINER,
    default_predictor_resources,
)
from config.mlserver import mlserver_env, port_env
from config.models import (
    DEFAULT_CUSTOM_PORT,
    DEFAULT_PROTOCOL,
    DEFAULT_READINESS_TIMEOUT,
    CanaryConfig,
    ModelConfig,
    env_manifest,
)
from config.storage import STORAGE_URI_ENV

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
# pulumi-kubernetes waits for this condition, so `pulumi up` fails loudly when a model does not load.
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"

# What KServe's mutating webhook (inference_service_defaults.go) would change is already in the emitted object, so the
# object is a fixed point of its defaulting and `pulumi preview` after `up` shows no diff:
# - the `modelFormat` annotation (setPredictorModelDefaults) on built-in-runtime models;
# - a custom container's name and cpu/memory requests and limits (CustomPredictor.Default);
# - `automountServiceAccountToken` (disableAutomountServiceAccountToken), always set explicitly;
# - the deploymentMode annotation, always set, in its current spelling (the webhook rewrites the legacy names).
# Left to the server: the local-model-cache labels and annotations (setLocalModelLabel), which exist only when the
# cluster has a LocalModelCache for the model's storageUri, a cluster object the program cannot know. The program never
# sends those keys, so they are never among its inputs; whether a preview after `refresh` shows them depends on the
# provider's diff of live state, which only an end-to-end run against a cluster with a model cache can show.


def _custom_container(model: ModelConfig) -> dict[str, Any]:
    env = env_manifest(model.env)
    if model.env_value("PROTOCOL") is None:
        env.insert(0, {"name": "PROTOCOL", "value": DEFAULT_PROTOCOL})
    if model.storage_uri is not None:
        # KServe runs its storage initializer for a custom container that sets STORAGE_URI; the model then
        # lands in /mnt/models.
        env.append({"name": STORAGE_URI_ENV, "value": model.storage_uri})
    # The same MLServer settings `python -m cli serve` uses (a custom image is MLServer too).
    env.extend(mlserver_env(model))
    env.extend(port_env(model))
    container: dict[str, Any] = {"name": PREDICTOR_CONTAINER, "image": model.image, "env": env}
    if model.args:
        container["args"] = list(model.args)
    container["ports"] = custom_container_ports(model, DEFAULT_CUSTOM_PORT)
    container["resources"] = default_predictor_resources(model.resources.manifest() if model.resources else None)
    container["securityContext"] = container_security_context()
    return container


def _builtin_model(model: ModelConfig) -> dict[str, Any]:
    model_format: dict[str, Any] = {"name": model.format}
    if model.format_version is not None:
        model_format["version"] = model.format_version
    spec: dict[str, Any] = {"modelFormat": model_format, "protocolVersion": model.protocol}
    if model.runtime is not None:
        spec["runtime"] = model.runtime
    if model.storage_uri is not None:
        spec["storageUri"] = model.storage_uri
    spec.update(model_fields(model))
    # User env, then the MLServer settings derived from `mlserver:` (the same ones `python -m cli serve` uses), then the
    # listen ports derived from `ports` (cluster only).
    env = env_manifest(model.env) + mlserver_env(model) + port_env(model)
    if env:
        spec["env"] = env
    if model.args:
        spec["args"] = list(model.args)
    if model.resources is not None:
        spec["resources"] = model.resources.manifest()
    # Merged by KServe into the runtime's kserve-container.
    spec["securityContext"] = container_security_context()
    return spec


def predictor_spec(model: ModelConfig) -> dict[str, Any]:
    """`spec.predictor` for a model entry: exactly one implementation, as KServe's webhook requires."""
    predictor: dict[str, Any] = {}
    if model.is_custom_image:
        predictor["containers"] = [_custom_container(model)]
    else:
        predictor["model"] = _builtin_model(model)
    optional = {
        "minReplicas": model.min_replicas,
        "maxReplicas": model.max_replicas,
        "scaleMetric": model.scale_metric,
        "scaleTarget": model.scale_target,
        "canaryTrafficPercent": model.canary_traffic_percent,
        # A storageCredentials entry's ServiceAccount carries its name; KServe's storage initializer reads the
        # secrets attached to the predictor's ServiceAccount.
        "serviceAccountName": model.service_account_name or model.storage_credentials,
        "imagePullSecrets": [{"name": name} for name in model.image_pull_secrets] or None,
        "nodeSelector": dict(model.node_selector) or None,
        "tolerations": [t.manifest() for t in model.tolerations] or None,
        "affinity": model.affinity.manifest() if model.affinity else None,
        "securityContext": pod_security_context(),
        # Predictors do not call the Kubernetes API; a token is mounted only for a model that asks for one.
        "automountServiceAccountToken": model.automount_service_account_token,
    }
    predictor.update({key: value for key, value in optional.items() if value is not None})
    predictor.update(component_extension_fields(model))
    return predictor


def inference_service_manifest(model: ModelConfig, deployment_mode: str) -> dict[str, Any]:
    """The full InferenceService object for a model entry (plain data, testable without Pulumi)."""
    # The webhook stores the format as an annotation unless the object carries one (a user's own value wins there too).
    format_annotation = {MODEL_FORMAT_ANNOTATION: model.format} if model.format is not None else {}
    metadata: dict[str, Any] = {
        "name": model.name,
        "namespace": model.namespace,
        "annotations": {
            **format_annotation,
            **model.annotations,
            DEPLOYMENT_MODE_ANNOTATION: deployment_mode,
            WAIT_FOR_ANNOTATION: "condition=Ready",
        },
    }
    if model.autoscaler_class is not None:
        metadata["annotations"][AUTOSCALER_CLASS_ANNOTATION] = model.autoscaler_class
    if model.labels:
        metadata["labels"] = dict(model.labels)
    spec: dict[str, Any] = {"predictor": predictor_spec(model)}
    if model.canary:
        # Standard mode's list form: each canary is a full predictor taking its share of the traffic.
        spec["canary"] = [
            {"trafficPercent": canary.traffic_percent, "predictor": _canary_predictor(model, canary, index)}
            for index, canary in enumerate(model.canary)
        ]
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}


def _canary_predictor(model: ModelConfig, canary: CanaryConfig, index: int) -> dict[str, Any]:
    # validateCanarySpecs: every canary names its predictor (KServe's Deployment and Service are
    # `<model>-<name>-predictor`); the stable predictor stays unnamed (`<model>-predictor`).
    predictor = {"name": canary.predictor_name(index), **predictor_spec(model.canary_model(canary))}
    if "model" in predictor:
        # The canary list's schema requires the model container's name (unlike spec.predictor.model); KServe
        # names its predictor container kserve-container, so that is the only safe value.
        predictor["model"] = {"name": PREDICTOR_CONTAINER, **predictor["model"]}
    return predictor


def cluster_url(model: ModelConfig) -> str:
    """The in-cluster address of the model's predictor Service, `{name}-predictor.{namespace}`, which KServe
    creates in both deployment modes (a Kubernetes Service in Standard mode, a Knative Service in Knative mode).

    Computed rather than read back: the Python `CustomResource` exposes no `status`, and `pulumi preview` knows
    no status at all; this address is fixed by name and namespace, so preview can show it."""
    return f"http://{model.name}-predictor.{model.namespace}.svc.cluster.local"


@dataclass
class InferenceServiceArgs:
    model: ModelConfig
    deployment_mode: str
    # How long `pulumi up` waits for condition Ready (create and update) before failing.
    readiness_timeout: str = DEFAULT_READINESS_TIMEOUT
    # What must exist before the InferenceService is applied (its namespace, runtimes, the KServe webhook).
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class InferenceService(pulumi.ComponentResource):
    """A model served by KServe; outputs its name, namespace, V2 inference path and in-cluster URLs."""

    def __init__(self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None):
        model = args.model
        # A renamed or moved model keeps its Pulumi identity through aliases (component and child are both named
        # `<namespace>/<name>`): the engine then plans a replacement of this resource (the new object is created
        # and Ready before the old one is deleted) instead of an unrelated create plus a delete.
        aliases = [pulumi.Alias(name=model.renamed_from.key)] if model.renamed_from else []
        super().__init__(
            "kserve-platform:models:InferenceService",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases)),
        )
        manifest = inference_service_manifest(model, args.deployment_mode)
        self.inference_service = custom_resource(
            name,
            manifest,
            pulumi.ResourceOptions(
                parent=self,
                depends_on=args.depends_on,
                aliases=aliases,
                # Bounds the pulumi.com/waitFor wait: a model that never loads fails the update after this long.
                custom_timeouts=pulumi.CustomTimeouts(create=args.readiness_timeout, update=args.readiness_timeout),
            ),
        )
        # Known from config alone, so plain strings: no Output per value (it adds up over a thousand models).
        self.name: str = model.name
        self.namespace: str = model.namespace
        self.inference_path: str = model.inference_path
        self.url: str = cluster_url(model)
        self.inference_url: str = f"{self.url}{model.inference_path}"
        self.register_outputs(
            {
                "name": self.name,
                "namespace": self.namespace,
                "inferencePath": self.inference_path,
                "url": self.url,
                "inferenceUrl": self.inference_url,
            }
        )
