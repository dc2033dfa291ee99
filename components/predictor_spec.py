"""The predictor fields of config/predictor.py as InferenceService fields (plain data, spelled as the v0.20.0 CRD
spells them): component-level ones on `spec.predictor`, model-level ones on `spec.predictor.model`, and the
container ports of a custom image."""

from __future__ import annotations

from typing import Any

from config.mlserver import declared_ports
from config.models import ModelConfig


def component_extension_fields(model: ModelConfig) -> dict[str, Any]:
    """`spec.predictor` fields KServe calls the component extension: logger, batcher, rollout, autoscaling spec,
    Knative concurrency and the request timeout (only those the entry sets)."""
    fields: dict[str, Any] = {}
    if model.logger is not None:
        fields["logger"] = model.logger.manifest()
    if model.batcher is not None:
        fields["batcher"] = model.batcher.manifest()
    if model.deployment_strategy is not None:
        fields["deploymentStrategy"] = model.deployment_strategy.manifest()
    if model.auto_scaling is not None:
        fields["autoScaling"] = model.auto_scaling.manifest()
    if model.container_concurrency is not None:
        fields["containerConcurrency"] = model.container_concurrency
    if model.timeout is not None:
        fields["timeout"] = model.timeout
    return fields


def model_fields(model: ModelConfig) -> dict[str, Any]:
    """`spec.predictor.model` fields beyond format/runtime/storageUri: runtimeVersion, storage, ports."""
    fields: dict[str, Any] = {}
    if model.runtime_version is not None:
        fields["runtimeVersion"] = model.runtime_version
    if model.storage is not None:
        fields["storage"] = model.storage.manifest()
    if model.ports is not None:
        fields["ports"] = [port.manifest() for port in model.ports]
    return fields


def custom_container_ports(model: ModelConfig, default_port: int) -> list[dict[str, Any]]:
    """The custom container's `ports`: the declared ones (`ports`, or the unnamed `port`), else KServe's default."""
    ports = declared_ports(model)
    if not ports:
        return [{"containerPort": default_port, "protocol": "TCP"}]
    return [port.manifest() for port in ports]
