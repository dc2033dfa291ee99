"""A custom MLServer runtime as a KServe `ServingRuntime` (namespaced) or `ClusterServingRuntime`.

Several models share one custom image (built with `mlserver build`) by naming the runtime in `models[].runtime`,
or by auto-selection of one of its `supportedModelFormats`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.manifest import custom_resource
from components.security import container_security_context
from config.kubernetes import EnvVar
from config.models import env_manifest
from config.runtimes import DEFAULT_RUNTIME_RESOURCES, MLSERVER_PORT_ENV, RuntimeConfig

API_VERSION = "serving.kserve.io/v1alpha1"
# KServe picks the serving container by this name, as in its built-in kserve-mlserver runtime.
RUNTIME_CONTAINER = "kserve-container"


def _container(runtime: RuntimeConfig) -> dict[str, Any]:
    given = {var.name for var in runtime.env}
    # MLServer must listen where KServe routes (HTTP 8080, gRPC 9000); the user may override either.
    defaults = [EnvVar(name=name, value=value) for name, value in MLSERVER_PORT_ENV.items() if name not in given]
    container: dict[str, Any] = {
        "name": RUNTIME_CONTAINER,
        "image": runtime.image,
        "env": env_manifest([*runtime.env, *defaults]),
    }
    if runtime.args:
        container["args"] = list(runtime.args)
    container["resources"] = runtime.resources.manifest() if runtime.resources else DEFAULT_RUNTIME_RESOURCES
    container["securityContext"] = container_security_context()
    return container


def serving_runtime_manifest(runtime: RuntimeConfig) -> dict[str, Any]:
    """The (Cluster)ServingRuntime object for a `runtimes` entry (plain data, testable without Pulumi)."""
    metadata: dict[str, Any] = {"name": runtime.name, "labels": {"app.kubernetes.io/managed-by": "pulumi"}}
    if runtime.namespace:
        metadata["namespace"] = runtime.namespace
    formats = []
    for entry in runtime.supported_model_formats:
        item: dict[str, Any] = {"name": entry.name, "autoSelect": entry.auto_select}
        if entry.version is not None:
            item["version"] = entry.version
        if entry.priority is not None:
            item["priority"] = entry.priority
        formats.append(item)
    spec: dict[str, Any] = {
        "supportedModelFormats": formats,
        "protocolVersions": list(runtime.protocol_versions),
        "containers": [_container(runtime)],
    }
    if runtime.multi_model:
        spec["multiModel"] = True
    if runtime.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in runtime.image_pull_secrets]
    return {"apiVersion": API_VERSION, "kind": runtime.kind, "metadata": metadata, "spec": spec}


@dataclass
class ServingRuntimeArgs:
    runtime: RuntimeConfig
    # What must exist first: the runtime's namespace and KServe's webhook, which validates runtimes.
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class ServingRuntime(pulumi.ComponentResource):
    """One custom runtime; outputs its kind and name (what `models[].runtime` refers to)."""

    def __init__(self, name: str, args: ServingRuntimeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:runtimes:ServingRuntime", name, None, opts)
        manifest = serving_runtime_manifest(args.runtime)
        self.runtime = custom_resource(
            name,
            manifest,
            pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
        )
        self.kind = pulumi.Output.from_input(manifest["kind"])
        self.runtime_name = pulumi.Output.from_input(args.runtime.name)
        self.register_outputs({"kind": self.kind, "name": self.runtime_name})
