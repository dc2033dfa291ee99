"""`kserve`: how KServe is installed in the stack's cluster, and the versions it runs.

Every version and image the program deploys has its one home here as a default, overridable per stack.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from config.base import StrictModel
from config.kubernetes import DnsLabel

KSERVE_VERSION = "v0.20.0"
# KServe's kserve-mlserver runtime ships `mlserver:replace`, mapped to this image by its kustomization.
MLSERVER_IMAGE = "docker.io/seldonio/mlserver:1.7.1"

# KServe renamed its modes in v0.15; the old names are still accepted by KServe and by this config.
_LEGACY_MODE_NAMES = {"RawDeployment": "Standard", "Serverless": "Knative"}


def _modern_mode_name(value: object) -> object:
    return _LEGACY_MODE_NAMES.get(value, value) if isinstance(value, str) else value


DeploymentMode = Annotated[Literal["Standard", "Knative"], BeforeValidator(_modern_mode_name)]


class KServeConfig(StrictModel):
    """Install settings for KServe and the defaults every InferenceService of the stack inherits."""

    install: bool = True
    version: str = KSERVE_VERSION
    deployment_mode: DeploymentMode = "Standard"
    mlserver_image: str = MLSERVER_IMAGE
    # Namespaces that already exist in the cluster (owned by another team or tool): models may use them,
    # but the program neither creates nor deletes them.
    existing_namespaces: list[DnsLabel] = Field(default_factory=list)
    # URI prefixes a ClusterStorageContainer in the cluster serves, accepted in models[].storageUri.
    extra_storage_uri_prefixes: list[str] = Field(default_factory=list)
