"""What the kserve-platform Pulumi package offers: its three components, which config keys are their inputs, and
their outputs.

The inputs are not written here: each is a field of a config model (`config/`), named by its stack-file key, so the
package schema (package/schema.py) and the validation (package/provider.py) come from the models themselves. Kept out
are the keys that only make sense inside one stack file (they name other entries of that file, or the whole
install); each has a message saying what a package user does instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from config.kserve import KServeConfig
from config.models import ModelConfig
from config.runtimes import RuntimeConfig
from config.stack import PROJECT, StackConfig

# The Pulumi package name: the project's own name, which the components' type tokens already start with
# (`kserve-platform:models:InferenceService`), so the same classes serve the program and the package. Pulumi allows
# `-` in package names (`^[a-zA-Z][-a-zA-Z0-9_]*$`); the provider executable is `pulumi-resource-kserve-platform`.
PACKAGE = PROJECT
STRING = MappingProxyType({"type": "string"})
BOOLEAN = MappingProxyType({"type": "boolean"})
STRING_MAP = MappingProxyType({"type": "object", "additionalProperties": {"type": "string"}})


@dataclass(frozen=True)
class InputSource:
    """Inputs taken from the fields of one config model, by stack-file key.

    `keys`: only these fields (None: every field but those in `excluded`). `excluded`: key -> what to do instead,
    the error a consumer gets when the key is set anyway."""

    model: type[BaseModel]
    keys: tuple[str, ...] | None = None
    excluded: Mapping[str, str] = field(default_factory=dict)

    def input_keys(self) -> list[str]:
        keys = [info.alias or name for name, info in self.model.model_fields.items()]
        if self.keys is not None:
            unknown = sorted(set(self.keys) - set(keys))
            if unknown:
                raise ValueError(f"{self.model.__name__} has no keys {unknown}")
            return list(self.keys)
        return [key for key in keys if key not in self.excluded]


@dataclass(frozen=True)
class OutputSpec:
    """One output of a component: its schema type, and the component attribute (or summary key) that holds it."""

    key: str
    type: Mapping[str, Any]
    description: str


@dataclass(frozen=True)
class ComponentSpec:
    token: str
    description: str
    inputs: tuple[InputSource, ...]
    outputs: tuple[OutputSpec, ...]

    @property
    def name(self) -> str:
        return self.token.rsplit(":", 1)[1]

    @property
    def excluded(self) -> dict[str, str]:
        return {key: why for source in self.inputs for key, why in source.excluded.items()}

    def input_keys(self) -> list[str]:
        return [key for source in self.inputs for key in source.input_keys()]


INFERENCE_SERVICE = ComponentSpec(
    token=f"{PACKAGE}:models:InferenceService",
    description=(
        "A model served by KServe: one `serving.kserve.io/v1beta1` InferenceService, built and validated exactly as "
        "an entry of the stack file's `models` list (the inputs are that entry's keys, plus the stack's "
        "`kserve.deploymentMode` and `kserve.extraStorageUriPrefixes`). Every invalid input is reported at once and "
        "nothing is registered. `pulumi up` waits until KServe reports the model Ready (at most `readinessTimeout`). "
        "Not checked here, unlike in a stack: which runtime serves the model (the package cannot see the cluster's "
        "runtimes); KServe reports NoSupportingRuntime on the InferenceService instead."
    ),
    inputs=(
        InputSource(
            ModelConfig,
            excluded={
                "storageCredentials": (
                    "names a storageCredentials entry of a stack file, which a package user does not have: set "
                    "serviceAccountName to a ServiceAccount whose secrets hold the bucket credentials"
                ),
                "renamedFrom": (
                    "is a stack file's rename note: give the resource the Pulumi `aliases` option with its former "
                    "name instead"
                ),
                "deploy": "is a stack file's switch; a resource is always deployed: remove the resource instead",
            },
        ),
        InputSource(KServeConfig, keys=("deploymentMode", "extraStorageUriPrefixes")),
    ),
    outputs=(
        OutputSpec("name", STRING, "The InferenceService's name."),
        OutputSpec("namespace", STRING, "The InferenceService's namespace."),
        OutputSpec("inferencePath", STRING, "The V2 (Open Inference Protocol) REST path clients POST to."),
        OutputSpec("url", STRING, "The in-cluster address of the model's predictor Service."),
        OutputSpec(
            "inferenceUrl", STRING, "`url` followed by `inferencePath`: where in-cluster clients send requests."
        ),
    ),
)

SERVING_RUNTIME = ComponentSpec(
    token=f"{PACKAGE}:runtimes:ServingRuntime",
    description=(
        "A custom MLServer runtime: a KServe ServingRuntime in `namespace`, or a ClusterServingRuntime without one, "
        "built and validated exactly as an entry of the stack file's `runtimes` list. Models name it in `runtime` "
        "or are placed on it by auto-selection."
    ),
    inputs=(InputSource(RuntimeConfig),),
    outputs=(
        OutputSpec("kind", STRING, "`ServingRuntime` or `ClusterServingRuntime`."),
        OutputSpec("name", STRING, "The runtime's name, what a model's `runtime` input names."),
    ),
)

KSERVE_INSTALL = ComponentSpec(
    token=f"{PACKAGE}:install:KServeInstall",
    description=(
        "KServe and what it needs (cert-manager, Gateway API or Istio and Knative), installed from pinned charts in "
        "an order that converges on the first `pulumi up`, as the stack file's `kserve` key with `install: true`. "
        "Give InferenceService and ServingRuntime resources `dependsOn` this resource, so they are applied once "
        "KServe's webhook serves. The `protect` resource option protects every object of the install."
    ),
    inputs=(
        InputSource(
            KServeConfig,
            excluded={
                "install": "is always true for this resource: to use the cluster's own KServe, omit the resource",
                "existingNamespaces": (
                    "lists the stack's existing model namespaces; a package user creates or uses namespaces directly"
                ),
                "extraStorageUriPrefixes": "is an input of each InferenceService resource in the package",
            },
        ),
        InputSource(StackConfig, keys=("mirror",)),
    ),
    outputs=(
        OutputSpec("installed", BOOLEAN, "Always true: this resource installs KServe."),
        OutputSpec("deploymentMode", STRING, "`Standard` or `Knative`, as the install configures KServe."),
        OutputSpec("versions", STRING_MAP, "What is installed, by component: KServe, the MLServer image, ..."),
        OutputSpec("ingress", STRING_MAP, "How models are reached from outside the cluster, and the hosts they get."),
        OutputSpec("crdsDeletedOnUninstall", BOOLEAN, "Whether removing the install deletes KServe's CRDs."),
    ),
)

COMPONENTS: tuple[ComponentSpec, ...] = (KSERVE_INSTALL, SERVING_RUNTIME, INFERENCE_SERVICE)
BY_TOKEN = {spec.token: spec for spec in COMPONENTS}
