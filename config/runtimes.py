"""`runtimes`: custom serving runtimes, MLServer images built with `mlserver build`, shared by models."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.base import StrictModel
from config.kubernetes import DnsLabel, EnvList, ResourceRequirements
from config.models import ImageRef


class SupportedModelFormat(StrictModel):
    """One `supportedModelFormats` entry of a ServingRuntime."""

    name: str
    version: str | None = None
    auto_select: bool = True
    priority: int | None = Field(default=None, ge=1)


class RuntimeConfig(StrictModel):
    """A custom MLServer runtime: a namespaced ServingRuntime, or a ClusterServingRuntime without namespace."""

    name: DnsLabel
    namespace: DnsLabel | None = None
    image: ImageRef
    supported_model_formats: list[SupportedModelFormat] = Field(min_length=1)
    protocol_versions: list[Literal["v2", "grpc-v2"]] = Field(default_factory=lambda: ["v2"], min_length=1)
    env: EnvList = Field(default_factory=list)
    resources: ResourceRequirements | None = None

    @property
    def kind(self) -> str:
        return "ServingRuntime" if self.namespace else "ClusterServingRuntime"
