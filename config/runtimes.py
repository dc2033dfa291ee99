"""`runtimes`: custom serving runtimes (MLServer images built with `mlserver build`) shared by models, and the
built-in runtimes KServe installs, with the rules KServe uses to pick one runtime for a model.

KServe resolves a model to a runtime at reconcile time (`NoSupportingRuntime` long after `pulumi up` returned)
and rejects conflicting runtimes in its webhook; both are checked here so a bad config stops at preview.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from config.base import StrictModel
from config.kubernetes import DnsLabel, DnsSubdomain, EnvList, ResourceRequirements
from config.models import ImageRef

RuntimeProtocol = Literal["v1", "v2", "grpc-v1", "grpc-v2"]


@dataclass(frozen=True)
class FormatSupport:
    """One `supportedModelFormats` entry, as KServe reads it."""

    name: str
    version: str | None
    auto_select: bool
    priority: int | None

    def matches(self, name: str, version: str | None) -> bool:
        # KServe: a model without version matches any version of its format; a model version matches the
        # runtime's version exactly or as its major part ("1.5" is served by a runtime declaring "1").
        if name != self.name:
            return False
        if version is None or self.version is None:
            return True
        return version == self.version or version.startswith(f"{self.version}.")


@dataclass(frozen=True)
class RuntimeView:
    """What model placement needs to know about a runtime, built-in or custom."""

    name: str
    namespace: str | None  # None: ClusterServingRuntime, visible to every namespace
    formats: tuple[FormatSupport, ...]
    protocols: tuple[str, ...]
    builtin: bool = False
    # A multi-model runtime serves predictors without storageUri/storage (models loaded later, e.g. TrainedModels);
    # KServe matches the two strictly (GetSupportingRuntimes: IsMultiModelRuntime() == isMMS).
    multi_model: bool = False

    @property
    def kind(self) -> str:
        return "ServingRuntime" if self.namespace else "ClusterServingRuntime"

    def visible_in(self, namespace: str) -> bool:
        return self.namespace is None or self.namespace == namespace

    def supports(self, name: str, version: str | None, protocol: str, auto_only: bool) -> bool:
        if protocol not in self.protocols:
            return False
        return any(f.matches(name, version) and (f.auto_select or not auto_only) for f in self.formats)


def _formats(*entries: tuple[str, str, int]) -> tuple[FormatSupport, ...]:
    return tuple(FormatSupport(name, version, True, priority) for name, version, priority in entries)


# The ClusterServingRuntimes KServe v0.20.0 ships (`runtimes/*.yaml` of the release, installed by the
# kserve-runtime-configs chart) that can serve the formats this project deploys: what each serves is the
# program's only knowledge of them; tests/test_runtimes.py checks it against the upstream release files. Which of
# them a cluster has is `kserve.builtinRuntimes`.
BUILTIN_RUNTIMES: tuple[RuntimeView, ...] = (
    RuntimeView(
        "kserve-mlserver",
        None,
        _formats(
            ("sklearn", "0", 2),
            ("sklearn", "1", 2),
            ("xgboost", "1", 2),
            ("xgboost", "2", 2),
            ("lightgbm", "3", 2),
            ("lightgbm", "4", 2),
            ("mlflow", "1", 1),
            ("mlflow", "2", 1),
        ),
        ("v2",),
        builtin=True,
    ),
    RuntimeView("kserve-sklearnserver", None, _formats(("sklearn", "1", 1)), ("v1", "v2"), builtin=True),
    RuntimeView("kserve-xgbserver", None, _formats(("xgboost", "2", 1)), ("v1", "v2"), builtin=True),
    RuntimeView("kserve-lgbserver", None, _formats(("lightgbm", "4", 1)), ("v1", "v2"), builtin=True),
)

# Requests = limits as KServe's own MLServer runtime sets them; a custom runtime without `resources` gets these.
DEFAULT_RUNTIME_RESOURCES = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
# The ports KServe expects an MLServer container to listen on (HTTP 8080, gRPC 9000), as its built-in runtime sets.
MLSERVER_PORT_ENV = {"MLSERVER_HTTP_PORT": "8080", "MLSERVER_GRPC_PORT": "9000"}


class SupportedModelFormat(StrictModel):
    """One `supportedModelFormats` entry of a ServingRuntime."""

    name: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$", description="Model format name, e.g. sklearn, or your own."
    )
    version: str | None = Field(
        None, description="Format version; a model's formatVersion matches it exactly or by its major part."
    )
    auto_select: bool = Field(
        True,
        description=(
            "Auto-selected runtimes serve models that do not name a runtime; KServe picks the highest priority."
        ),
    )
    priority: int | None = Field(
        default=None,
        ge=1,
        description="Priority (>= 1) among runtimes that auto-select the same format; the highest wins.",
    )


class RuntimeConfig(StrictModel):
    """A custom MLServer runtime: a namespaced ServingRuntime, or a ClusterServingRuntime without namespace."""

    name: DnsLabel = Field(description="Runtime name (not one of KServe's built-in names); models name it in runtime.")
    namespace: DnsLabel | None = Field(
        None,
        description=(
            "A model namespace or one of kserve.existingNamespaces for a ServingRuntime; omit for a "
            "ClusterServingRuntime."
        ),
    )
    image: ImageRef = Field(
        description="Pinned image reference (repo:tag or repo@sha256:...; never untagged or latest)."
    )
    supported_model_formats: list[SupportedModelFormat] = Field(
        min_length=1, description="List of `{name, version, autoSelect (default true), priority (>= 1)}`."
    )
    protocol_versions: list[Literal["v2", "grpc-v2"]] = Field(
        default_factory=lambda: ["v2"], min_length=1, description="Protocols the runtime speaks: v2 and/or grpc-v2."
    )
    env: EnvList = Field(
        default_factory=list,
        description=(
            "Container environment: a mapping NAME: value, or the Kubernetes list form with valueFrom "
            "(PYTHONPATH refused)."
        ),
    )
    args: list[str] = Field(default_factory=list, description="Container arguments, as for models.")
    resources: ResourceRequirements | None = Field(
        None,
        description=(
            "Container requests/limits, as KServe's own MLServer runtime. Default: 1 CPU / 2Gi, requests = limits."
        ),
    )
    image_pull_secrets: list[DnsSubdomain] = Field(default_factory=list, description="Names of registry Secrets.")
    multi_model: bool = Field(
        False,
        description=(
            "A multi-model runtime: it serves the models that name no `storageUri`/`storage` (and "
            "only those, as KServe matches them)."
        ),
    )

    @model_validator(mode="after")
    def _distinct_formats(self) -> RuntimeConfig:
        seen: set[tuple[str, str | None]] = set()
        for entry in self.supported_model_formats:
            key = (entry.name, entry.version)
            if key in seen:
                raise ValueError(f"supportedModelFormats lists {entry.name} version {entry.version} twice")
            seen.add(key)
        return self

    @property
    def kind(self) -> str:
        return "ServingRuntime" if self.namespace else "ClusterServingRuntime"

    def view(self) -> RuntimeView:
        return RuntimeView(
            name=self.name,
            namespace=self.namespace,
            formats=tuple(
                FormatSupport(f.name, f.version, f.auto_select, f.priority) for f in self.supported_model_formats
            ),
            protocols=tuple(self.protocol_versions),
            multi_model=self.multi_model,
        )


def builtin_runtime_name(chart_key: str) -> str:
    """`kserve.builtinRuntimes` names runtimes by their kserve-runtime-configs chart key (`mlserver`); the
    ClusterServingRuntime it installs is `kserve-<key>`."""
    return f"kserve-{chart_key}"


def enabled_builtin_runtimes(chart_keys: Iterable[str]) -> tuple[RuntimeView, ...]:
    """The built-in runtimes the cluster has, from `kserve.builtinRuntimes` (installed by the program, or
    declared present when `kserve.install` is false)."""
    names = {builtin_runtime_name(key) for key in chart_keys}
    return tuple(view for view in BUILTIN_RUNTIMES if view.name in names)


def priority_conflicts(
    runtimes: Iterable[tuple[int | None, RuntimeView]],
) -> Iterator[tuple[int, int, str]]:
    """KServe webhook rule: two auto-selected runtimes of one scope (all ClusterServingRuntimes, or the
    ServingRuntimes of one namespace) may not give one format name+version the same priority for a shared
    protocol. `runtimes` lists built-ins (index None) first, then `runtimes[index]`; yields
    (runtime index, supportedModelFormats index, message) for the later one of each conflicting pair."""
    seen: list[tuple[int | None, RuntimeView]] = []
    for index, runtime in runtimes:
        for other_index, other in seen:
            shared = sorted(set(runtime.protocols) & set(other.protocols))
            if index is None or runtime.namespace != other.namespace or not shared:
                continue
            for position, mine in enumerate(runtime.formats):
                clash = any(
                    mine.auto_select
                    and theirs.auto_select
                    and (mine.name, mine.version) == (theirs.name, theirs.version)
                    and mine.priority is not None
                    and mine.priority == theirs.priority
                    for theirs in other.formats
                )
                if clash:
                    where = "KServe's built-in" if other.builtin else f"runtimes[{other_index}]"
                    version = f" version {mine.version}" if mine.version else ""
                    yield (
                        index,
                        position,
                        (
                            f"auto-selects {mine.name}{version} with priority {mine.priority} for protocol "
                            f"{', '.join(shared)}, as {where} {other.kind} '{other.name}' does: KServe's webhook "
                            "rejects two runtimes with the same priority; use another priority, or autoSelect: "
                            "false and name the runtime in models[].runtime"
                        ),
                    )
        seen.append((index, runtime))


def priority_mismatches(runtime: RuntimeConfig) -> Iterator[tuple[int, str]]:
    """validateModelFormatPrioritySame: within one runtime, the auto-selected entries of one format name must not
    give different priorities (KServe keeps the first entry's priority per name and compares the later ones with it,
    whatever their versions). Yields (supportedModelFormats index, message). KServe runs this check only when the
    scope already holds another runtime; the config refuses it always, since that depends on the cluster."""
    first: dict[str, tuple[int, int | None]] = {}
    where = f"{runtime.kind} '{runtime.namespace + '/' if runtime.namespace else ''}{runtime.name}'"
    for position, entry in enumerate(runtime.supported_model_formats):
        if not entry.auto_select:
            continue
        if entry.name not in first:
            first[entry.name] = (position, entry.priority)
            continue
        earlier, priority = first[entry.name]
        if priority is not None and entry.priority is not None and priority != entry.priority:
            yield (
                position,
                (
                    f"{where}: auto-selected {entry.name} has priority {priority} in supportedModelFormats[{earlier}] "
                    f"and {entry.priority} here; KServe's webhook refuses different priorities for one format in one "
                    "runtime: use one priority for every version of the format"
                ),
            )
