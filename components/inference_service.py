"""One model of the stack as a KServe `InferenceService` (serving.kserve.io/v1beta1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from config.mlserver import mlserver_env
from config.models import DEFAULT_PROTOCOL, ModelConfig, env_manifest

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
# KServe picks the predictor container by this name (else the first one).
PREDICTOR_CONTAINER = "kserve-container"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
# pulumi-kubernetes waits for this condition, so `pulumi up` fails loudly when a model does not load.
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"


def _custom_container(model: ModelConfig) -> dict[str, Any]:
    env = env_manifest(model.env)
    if model.env_value("PROTOCOL") is None:
        env.insert(0, {"name": "PROTOCOL", "value": DEFAULT_PROTOCOL})
    if model.storage_uri is not None:
        # KServe runs its storage initializer for a custom container that sets STORAGE_URI; the model then
        # lands in /mnt/models.
        env.append({"name": "STORAGE_URI", "value": model.storage_uri})
    # The same MLServer settings `serve_local.py` uses (a custom image is MLServer too).
    env.extend(mlserver_env(model))
    container: dict[str, Any] = {"name": PREDICTOR_CONTAINER, "image": model.image, "env": env}
    if model.args:
        container["args"] = list(model.args)
    container["ports"] = [{"containerPort": model.container_port, "protocol": "TCP"}]
    if model.resources is not None:
        container["resources"] = model.resources.manifest()
    return container


def _builtin_model(model: ModelConfig) -> dict[str, Any]:
    model_format: dict[str, Any] = {"name": model.format}
    if model.format_version is not None:
        model_format["version"] = model.format_version
    spec: dict[str, Any] = {"modelFormat": model_format, "protocolVersion": model.protocol}
    if model.runtime is not None:
        spec["runtime"] = model.runtime
    spec["storageUri"] = model.storage_uri
    # User env, then the MLServer settings derived from `mlserver:` (the same ones `serve_local.py` uses).
    env = env_manifest(model.env) + mlserver_env(model)
    if env:
        spec["env"] = env
    if model.args:
        spec["args"] = list(model.args)
    if model.resources is not None:
        spec["resources"] = model.resources.manifest()
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
        "canaryTrafficPercent": model.canary_traffic_percent,
        "serviceAccountName": model.service_account_name,
        "nodeSelector": dict(model.node_selector) or None,
        "tolerations": [t.manifest() for t in model.tolerations] or None,
    }
    predictor.update({key: value for key, value in optional.items() if value is not None})
    return predictor


def inference_service_manifest(model: ModelConfig, deployment_mode: str) -> dict[str, Any]:
    """The full InferenceService object for a model entry (plain data, testable without Pulumi)."""
    metadata: dict[str, Any] = {
        "name": model.name,
        "namespace": model.namespace,
        "annotations": {
            **model.annotations,
            DEPLOYMENT_MODE_ANNOTATION: deployment_mode,
            WAIT_FOR_ANNOTATION: "condition=Ready",
        },
    }
    if model.labels:
        metadata["labels"] = dict(model.labels)
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": {"predictor": predictor_spec(model)}}


@dataclass
class InferenceServiceArgs:
    model: ModelConfig
    deployment_mode: str
    # What must exist before the InferenceService is applied (its namespace, runtimes, the KServe webhook).
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class InferenceService(pulumi.ComponentResource):
    """A model served by KServe; outputs its name, namespace and V2 inference path."""

    def __init__(self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:models:InferenceService", name, None, opts)
        model = args.model
        manifest = inference_service_manifest(model, args.deployment_mode)
        self.inference_service = k8s.apiextensions.CustomResource(
            name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
        )
        self.name = pulumi.Output.from_input(model.name)
        self.namespace = pulumi.Output.from_input(model.namespace)
        self.inference_path = pulumi.Output.from_input(model.inference_path)
        self.register_outputs(
            {"name": self.name, "namespace": self.namespace, "inferencePath": self.inference_path}
        )
