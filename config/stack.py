"""The whole stack config and the rules that span several entries."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from config.base import StrictModel, issues_from_validation_error
from config.config_size import config_size_issue
from config.credentials import StorageCredentialConfig, credential_type_for_uri
from config.errors import ConfigError, ConfigIssue, format_path, name_models
from config.images import CustomImagesConfig, compose_custom_images
from config.kserve import KServeConfig
from config.kserve_admission import DEFAULT_PREDICTOR_RESOURCES, predictor_service_name
from config.kubernetes import Token, resource_requirements_problems
from config.mirror import MirrorConfig, compose_mirrored_images, mirror_issues, valid_mirror
from config.mlserver import env_conflicts
from config.model_files import PROJECT_DIR, ModelEntries, ModelFilePattern, model_entries, with_model_entries
from config.models import ModelConfig, ModelDefaults
from config.monitoring import MonitoringConfig
from config.namespaces import NamespacesConfig, installed_client_namespaces
from config.runtimes import (
    BUILTIN_RUNTIMES,
    DEFAULT_RUNTIME_RESOURCES,
    RuntimeConfig,
    RuntimeView,
    enabled_builtin_runtimes,
    priority_conflicts,
    priority_mismatches,
)
from config.storage import STORAGE_URI_ENV

PROJECT = "kserve-platform"
# Namespaces every cluster has from the start (the API server creates them): never the stack's to create or delete.
CLUSTER_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class StackConfig(StrictModel):
    """Everything under the `kserve-platform:` namespace of a `Pulumi.<stack>.yaml`."""

    kserve: KServeConfig = Field(
        default_factory=KServeConfig,
        description=(
            "How KServe and what it needs (cert-manager, ingress, Knative) are installed, and the "
            "defaults every InferenceService inherits."
        ),
    )
    runtimes: list[RuntimeConfig] = Field(
        default_factory=list,
        description=(
            "Custom serving runtimes (MLServer images): a ServingRuntime in a namespace, or a "
            "ClusterServingRuntime without one."
        ),
    )
    models: list[ModelConfig] = Field(
        default_factory=list, description="One entry per model: each becomes an InferenceService."
    )
    model_files: list[ModelFilePattern] = Field(
        default_factory=list,
        description=(
            "Files in the repository holding more `models` entries, for stacks with hundreds of models: paths or glob "
            "patterns (`models/prod/**/*.yaml`) relative to the project root, each file a YAML list of entries with "
            "the schema of models[] (`schema/model-file.schema.json`). Files are read in sorted path order after "
            "the inline models; a name used twice across them is an error. Pulumi hands the program the stack config "
            "in one environment string Linux caps at 128 KiB, which inline models fill at about 440. See "
            "docs/recipes/model-files.md."
        ),
    )
    namespaces: NamespacesConfig = Field(
        default_factory=NamespacesConfig,
        description=("Pod Security level, NetworkPolicy and labels of the namespaces the stack creates for models."),
    )
    model_defaults: ModelDefaults = Field(
        default_factory=ModelDefaults, description="Settings every model inherits unless it sets its own."
    )
    storage_credentials: list[StorageCredentialConfig] = Field(
        default_factory=list,
        description=(
            "Bucket credentials: each entry becomes a Secret and a ServiceAccount in its namespace; "
            "models name one in storageCredentials."
        ),
    )
    public_storage_uri_prefixes: list[Token] = Field(
        default_factory=list,
        description=(
            "Buckets read anonymously (e.g. gs://seldon-models/): models there need no credentials, "
            "so no 'missing credentials' warning."
        ),
    )
    monitoring: MonitoringConfig = Field(
        default_factory=MonitoringConfig,
        description="Prometheus Operator scraping, a Grafana dashboard and alerts for every model.",
    )
    protect: bool = Field(
        False,
        description=(
            "Protect every resource of the stack from deletion: `pulumi up` refuses to delete them "
            "until unprotected. Production stacks set this."
        ),
    )
    custom_images: CustomImagesConfig = Field(
        default_factory=CustomImagesConfig,
        description="Where registry-less custom images (`image: my-custom-server:0.1.0`) are pulled from.",
    )
    mirror: MirrorConfig | None = Field(
        None,
        description=(
            "Air-gapped clusters: a private registry (and chart/manifest mirrors) everything the stack deploys is "
            "pulled from; `python -m cli mirror` lists what to copy there."
        ),
    )

    # Where each entry of `models` is written (`models[i]`, or `modelFiles <file>[j]`): set by parse_stack_config.
    _model_entries: ModelEntries = PrivateAttr(default_factory=ModelEntries)

    def where(self, text: str) -> str:
        """`text` (a warning) with each `models[i]` named where that entry is written."""
        return self._model_entries.relocate_text(text)

    @property
    def predictor_client_namespaces(self) -> list[str] | None:
        """Namespaces the model namespaces' NetworkPolicy admits, or None when the policy is switched off.

        What the install puts in front of the models (`config.namespaces.installed_client_namespaces`) plus
        `namespaces.networkPolicy.allowFromNamespaces`; where the program cannot know (`kserve.install: false`, an
        ingress controller it does not install) the config requires that list (`config.namespaces.callers_unknown`).
        """
        policy = self.namespaces.network_policy
        if not policy.enabled:
            return None
        return sorted({*installed_client_namespaces(self.kserve), *(policy.allow_from_namespaces or [])})

    @property
    def deployed_models(self) -> list[ModelConfig]:
        """The models declared on the cluster: every entry but those with `deploy: false`."""
        return [model for model in self.models if model.deploy]

    @property
    def model_namespaces(self) -> list[str]:
        """Namespaces the program creates for models, in first-use order."""
        existing = set(self.kserve.existing_namespaces)
        return list(dict.fromkeys(m.namespace for m in self.deployed_models if m.namespace not in existing))

    def readiness_timeout(self, model: ModelConfig) -> str:
        return model.readiness_timeout or self.model_defaults.readiness_timeout

    def credential(self, model: ModelConfig) -> StorageCredentialConfig | None:
        for entry in self.storage_credentials:
            if (entry.namespace, entry.name) == (model.namespace, model.storage_credentials):
                return entry
        return None

    def secret_config_keys(self) -> list[str]:
        """Every secret config key the credentials read, in declaration order."""
        return list(dict.fromkeys(key for entry in self.storage_credentials for key in entry.secret_refs().values()))


def parse_stack_config(
    values: Mapping[str, Any],
    secret_keys: Collection[str] = (),
    project_dir: Path = PROJECT_DIR,
    passed_config: Mapping[str, str] | None = None,
    *,
    runtimes_known: bool = True,
) -> StackConfig:
    """Validate raw stack values (top-level keys without the `kserve-platform:` prefix): the one loader every
    reader of a stack goes through (the program, the offline render, every command and the Pulumi package).

    `secret_keys` names the config keys set with `--secret` that are not structured config: their values are
    never read here, only whether the credentials that reference them find them. `modelFiles` are read from
    `project_dir` (the project root) and their entries follow the inline `models`. `passed_config`: the whole config
    as the engine passes it to the program (`namespace:key` -> text), checked against the environment-string limit
    (under the engine the program runs only if it fit; offline this tells a stack the engine could not start).
    `runtimes_known=False` skips the rules that place models on runtimes (which runtime serves each model): for a
    caller that validates a model without knowing the cluster's runtimes (the Pulumi package's InferenceService).
    Raises `ConfigError` listing every problem, each with its key path, or returns the typed config.
    """
    if not isinstance(values, Mapping):
        raise ConfigError([ConfigIssue("<root>", "the stack config must be a mapping of keys to values")])
    sources = model_entries(values, project_dir)
    issues: list[ConfigIssue] = list(sources.issues)
    too_large = config_size_issue(passed_config) if passed_config is not None else None
    issues.extend([too_large] if too_large else [])
    # Model entries are checked against install settings (e.g. storage prefixes a ClusterStorageContainer serves).
    kserve = _valid_or_none(KServeConfig, values.get("kserve")) or KServeConfig()
    context = {"extra_storage_uri_prefixes": tuple(kserve.extra_storage_uri_prefixes)}
    inline = values.get("models")
    if sources.from_files and inline is not None and not isinstance(inline, list):
        # `models` itself is malformed (reported below): each file's entries are still checked on their own.
        for index, entry in enumerate(sources.entries):
            try:
                ModelConfig.model_validate(entry, context=context)
            except ValidationError as error:
                issues.extend(issues_from_validation_error(error, ModelConfig, prefix=("models", index)))
    values = with_model_entries(values, sources)
    # The models' images as the user means them (registry composed), before the mirror moves them.
    written = compose_custom_images(values)
    values = compose_mirrored_images(written)
    stack: StackConfig | None = None
    raw_credentials = values.get("storageCredentials")
    credentials = _valid_items(StorageCredentialConfig, raw_credentials)
    # Keys the credentials read as secrets are not stack-config keys: keep them out of the strict model (a
    # referenced key stored in plaintext is reported below, once, with its fix).
    referenced = {key for _, entry in credentials for key in entry.secret_refs().values()}
    structured = set(StackConfig.allowed_keys())
    plain = {key: value for key, value in values.items() if key not in referenced or key in structured}
    try:
        stack = StackConfig.model_validate(plain, context=context)
    except ValidationError as error:
        issues.extend(issues_from_validation_error(error, StackConfig))

    # When some entries are malformed, still check the rules of the well-formed ones so one run reports all.
    models = list(enumerate(stack.models)) if stack else _valid_items(ModelConfig, values.get("models"), context)
    runtimes = list(enumerate(stack.runtimes)) if stack else _valid_items(RuntimeConfig, values.get("runtimes"))
    if stack:
        credentials = list(enumerate(stack.storage_credentials))
    facts = _Facts(
        kserve=kserve,
        namespaces_config=_valid_or_none(NamespacesConfig, values.get("namespaces")),
        models=models,
        runtimes=runtimes,
        credentials=credentials,
        secret_keys=set(secret_keys),
        plain_keys=set(values),
        all_credentials_valid=len(credentials) == len(raw_credentials if isinstance(raw_credentials, list) else []),
        runtimes_known=runtimes_known,
    )
    for loc, message in _stack_rules(facts):
        issues.append(ConfigIssue(format_path(loc), message))
    # The per-model monitoring entries are checked even when another monitoring key is malformed.
    raw_monitoring = values.get("monitoring")
    entries = {"models": raw_monitoring.get("models") or []} if isinstance(raw_monitoring, Mapping) else {}
    monitoring = stack.monitoring if stack else _valid_or_none(MonitoringConfig, entries)
    raw_models = values.get("models")
    all_models_valid = len(models) == len(raw_models) if isinstance(raw_models, list) else raw_models is None
    for loc, message in monitoring.issues(models, all_models_valid) if monitoring else ():
        issues.append(ConfigIssue(format_path(loc), message))
    mirror = valid_mirror(values)
    for loc, message in mirror_issues(mirror, kserve, written) if mirror else ():
        issues.append(ConfigIssue(format_path(loc), message))
    if issues or stack is None:
        raise ConfigError(sources.relocate(name_models(issues, sources.entries)))
    if sources.from_files:
        stack._model_entries = sources
    return stack


def _valid_or_none(model: type[BaseModel], raw: Any, context: dict | None = None) -> Any:
    try:
        return model.model_validate(raw if raw is not None else {}, context=context)
    except ValidationError:
        return None


def _valid_items(model: type[BaseModel], raw: Any, context: dict | None = None) -> list[tuple[int, Any]]:
    if not isinstance(raw, list):
        return []
    out = []
    for index, item in enumerate(raw):
        parsed = _valid_or_none(model, item, context)
        if parsed is not None:
            out.append((index, parsed))
    return out


Loc = tuple[str | int, ...]


@dataclass
class _Facts:
    """The well-formed parts of a stack config, for rules spanning several entries."""

    kserve: KServeConfig
    namespaces_config: NamespacesConfig | None
    models: list[tuple[int, ModelConfig]]
    runtimes: list[tuple[int, RuntimeConfig]]
    credentials: list[tuple[int, StorageCredentialConfig]]
    secret_keys: set[str]
    plain_keys: set[str]
    all_credentials_valid: bool
    # False: the runtimes a model may be placed on are not all in the config (see parse_stack_config).
    runtimes_known: bool = True

    @property
    def namespaces(self) -> set[str]:
        """Namespaces that will exist: those of the models (created) and the declared existing ones."""
        return {model.namespace for _, model in self.models} | set(self.kserve.existing_namespaces)


def _stack_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    for loc, message in facts.kserve.install_issues():
        yield ("kserve", *loc), message
    existing = set(facts.kserve.existing_namespaces)
    if facts.namespaces_config and any(m.deploy and m.namespace not in existing for _, m in facts.models):
        # Only stacks that create model namespaces (and so their NetworkPolicy) must say who may call in.
        yield from facts.namespaces_config.network_policy_issues(facts.kserve)
    yield from _namespace_rules(facts)
    yield from _model_rules(facts)
    yield from _merged_resource_rules(facts)
    yield from _runtime_rules(facts)
    yield from _credential_rules(facts)


def _predictor_name_clashes(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    """KServe names each predictor's Deployment and Service `<model>-predictor`, or `<model>-<canary>-predictor` for a
    canary (constants.PredictorServiceName): two entries of one namespace must not end up with one name (model `a`
    with canary `b-c` and model `a-b` with canary `c`), or the second model's predictor never comes up."""
    owners: dict[tuple[str, str], tuple[Loc, str]] = {}
    for index, model in facts.models:
        predictors: list[tuple[Loc, str]] = [(("models", index, "name"), predictor_service_name(model.name))]
        if facts.kserve.deployment_mode == "Standard":
            for position, canary in enumerate(model.canary):
                where: Loc = ("models", index, "canary", position, "name")
                predictors.append((where, predictor_service_name(model.name, canary.predictor_name(position))))
        for where, service in predictors:
            key = (model.namespace, service)
            # Two entries with one name are the duplicate-name rule's to report.
            if key in owners and owners[key][1] != model.name:
                yield (
                    where,
                    (
                        f"KServe would name this predictor's Deployment and Service '{service}', as it "
                        f"names the predictor of {format_path(owners[key][0])}; rename the model or the canary"
                    ),
                )
            owners.setdefault(key, (where, model.name))


def _namespace_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    """Which namespaces the stack owns. A model namespace becomes the stack's own Namespace object unless listed in
    kserve.existingNamespaces; it must be neither one the install declares (two objects, one namespace) nor one the
    cluster always has (the first `up` would fail with "already exists", and a destroy would try to delete it)."""
    installed = facts.kserve.installed_namespaces()
    existing = set(facts.kserve.existing_namespaces)
    for index, model in facts.models:
        namespace = model.namespace
        if namespace in installed:
            yield (
                ("models", index, "namespace"),
                (
                    f"'{namespace}' is the namespace the install creates for {installed[namespace]}: put models in "
                    "a namespace of their own (the install's namespaces are not model namespaces)"
                ),
            )
        elif namespace in CLUSTER_NAMESPACES and namespace not in existing:
            yield (
                ("models", index, "namespace"),
                (
                    f"'{namespace}' exists in every cluster, so the stack cannot create or own it: use a namespace "
                    f"of your own, or list '{namespace}' in kserve.existingNamespaces to place models there without "
                    "the stack owning it (no Pod Security labels or NetworkPolicy are applied to existing namespaces)"
                ),
            )
    for position, namespace in enumerate(facts.kserve.existing_namespaces):
        if namespace in installed:
            yield (
                ("kserve", "existingNamespaces", position),
                (
                    f"'{namespace}' is the namespace the install creates for {installed[namespace]}; it cannot "
                    "already exist: remove it from existingNamespaces"
                ),
            )


def _storage_uri_env_issues(model: ModelConfig, where: Loc, blame_env: bool = True) -> Iterator[tuple[Loc, str]]:
    """On a custom image the program sets STORAGE_URI from storageUri (components/inference_service.py): a user env
    entry STORAGE_URI as well would give the container two entries with one name, which the API server refuses
    (env is a list keyed by name under server-side apply)."""
    if not model.is_custom_image or model.storage_uri is None:
        return
    for position, var in enumerate(model.env):
        if var.name == STORAGE_URI_ENV:
            loc = (*where, "env", position, "name") if blame_env else (*where, "storageUri")
            yield (
                loc,
                (
                    f"{STORAGE_URI_ENV} is set by the program from storageUri on a custom image; remove the env entry "
                    f"{STORAGE_URI_ENV} and keep storageUri (the container would get {STORAGE_URI_ENV} twice, which "
                    "the API server refuses)"
                ),
            )


def _model_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    yield from _predictor_name_clashes(facts)
    seen: dict[tuple[str, str], int] = {}
    former: dict[str, int] = {}
    current = {f"{model.namespace}/{model.name}" for _, model in facts.models}
    for index, model in facts.models:
        where = ("models", index)
        yield from _storage_uri_env_issues(model, where)
        for position, canary in enumerate(model.canary):
            if canary.env is not None or canary.storage_uri is not None:
                merged = model.canary_model(canary)
                yield from _storage_uri_env_issues(merged, (*where, "canary", position), canary.env is not None)
        for loc, message in [*model.rule_issues(), *env_conflicts(model)]:
            yield (*where, *loc), message
        for loc, message in model.mode_issues(facts.kserve.deployment_mode):
            yield (*where, *loc), message
        key = (model.namespace, model.name)
        if key in seen:
            yield (
                (*where, "name"),
                (
                    f"'{model.name}' is already used by models[{seen[key]}] in namespace '{model.namespace}': "
                    "InferenceService names must be unique per namespace"
                ),
            )
        else:
            seen[key] = index
        if model.canary_traffic_percent is not None and facts.kserve.deployment_mode != "Knative":
            yield (
                (*where, "canaryTrafficPercent"),
                (
                    "canaryTrafficPercent splits traffic between Knative revisions and needs "
                    "kserve.deploymentMode: Knative; in Standard mode use the canary list instead"
                ),
            )
        if model.renamed_from is not None:
            old = model.renamed_from.key
            if old in current and old != f"{model.namespace}/{model.name}":
                yield (
                    (*where, "renamedFrom"),
                    (f"'{old}' is still declared as a model: a renamed model's old entry must be removed"),
                )
            elif old in former:
                yield (*where, "renamedFrom"), f"'{old}' is already claimed by models[{former[old]}].renamedFrom"
            else:
                former[old] = index


Resources = dict[str, dict[str, str]]


def _runtime_defaults(facts: _Facts, model: ModelConfig) -> list[tuple[str, Resources]]:
    """(description, resources) of every container KServe may merge this model's `resources` into: the named runtime,
    or each runtime that could be auto-selected for its format; for a custom image, the defaulting webhook's."""
    if model.is_custom_image:
        return [("KServe's defaults for custom containers", DEFAULT_PREDICTOR_RESOURCES)]

    def candidate(view: RuntimeView) -> bool:
        if not view.visible_in(model.namespace):
            return False
        if model.runtime is not None:
            return view.name == model.runtime
        return any(f.name == model.format for f in view.formats)

    out = [
        (f"runtime {view.name}", DEFAULT_RUNTIME_RESOURCES)
        for view in enabled_builtin_runtimes(facts.kserve.builtin_runtimes)
        if candidate(view)
    ]
    for _, runtime in facts.runtimes:
        if candidate(runtime.view()):
            defaults = runtime.resources.manifest() if runtime.resources else DEFAULT_RUNTIME_RESOURCES
            out.append((f"runtime {runtime.name}", defaults))
    return out


def _merged_resource_issues(facts: _Facts, model: ModelConfig, where: Loc) -> Iterator[tuple[Loc, str]]:
    """KServe merges a model's `resources` key by key over its runtime's container (or, for a custom image, fills
    the defaults it lacks); the API server then validates the merged container when KServe creates the Deployment,
    after `pulumi up` has succeeded. E.g. `limits.cpu: 500m` alone under a runtime requesting cpu 1 is refused."""
    own = model.resources.manifest() if model.resources else {}
    for source, defaults in _runtime_defaults(facts, model):
        requests = {**defaults.get("requests", {}), **own.get("requests", {})}
        limits = {**defaults.get("limits", {}), **own.get("limits", {})}
        problems = resource_requirements_problems(requests, limits)
        if problems:
            yield (
                (*where, "resources"),
                (
                    f"merged with {source} (requests {defaults.get('requests', {})}, limits "
                    f"{defaults.get('limits', {})}) the predictor container would be refused by the API server: "
                    f"{'; '.join(problems)}. Set both requests and limits of that resource"
                ),
            )
            return


def _merged_resource_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    for index, model in facts.models:
        where: Loc = ("models", index)
        yield from _merged_resource_issues(facts, model, where)
        for position, canary in enumerate(model.canary):
            if canary.resources is not None or canary.runtime is not None:
                yield from _merged_resource_issues(facts, model.canary_model(canary), (*where, "canary", position))


def _runtime_views(facts: _Facts) -> list[tuple[int | None, RuntimeView]]:
    builtins: list[tuple[int | None, RuntimeView]] = [
        (None, view) for view in enabled_builtin_runtimes(facts.kserve.builtin_runtimes)
    ]
    return builtins + [(index, runtime.view()) for index, runtime in facts.runtimes]


def _runtime_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    names: dict[tuple[str | None, str], int] = {}
    builtin_names = {view.name for view in BUILTIN_RUNTIMES}
    for index, runtime in facts.runtimes:
        key = (runtime.namespace, runtime.name)
        if key in names:
            yield ("runtimes", index, "name"), f"'{runtime.name}' is already declared by runtimes[{names[key]}]"
        else:
            names[key] = index
        if runtime.namespace is None and runtime.name in builtin_names:
            yield (
                ("runtimes", index, "name"),
                (f"'{runtime.name}' is KServe's built-in ClusterServingRuntime; give the custom runtime its own name"),
            )
        if runtime.namespace is not None and runtime.namespace not in facts.namespaces:
            yield (
                ("runtimes", index, "namespace"),
                (
                    f"'{runtime.namespace}' is neither a model namespace nor listed in kserve.existingNamespaces; "
                    "a ServingRuntime serves only models of its own namespace (omit namespace for a "
                    "ClusterServingRuntime)"
                ),
            )
    for index, runtime in facts.runtimes:
        for position, message in priority_mismatches(runtime):
            yield ("runtimes", index, "supportedModelFormats", position, "priority"), message
    views = _runtime_views(facts)
    for index, position, message in priority_conflicts(views):
        yield ("runtimes", index, "supportedModelFormats", position, "priority"), message

    for index, model in facts.models:
        if model.is_custom_image or model.format is None or not facts.runtimes_known:
            continue
        yield from _placement_issues(("models", index), model, views)
        for position, canary in enumerate(model.canary):
            merged = model.canary_model(canary)
            if merged.runtime != model.runtime or merged.format_version != model.format_version:
                yield from _placement_issues(("models", index, "canary", position), merged, views)


def _placement_issues(where: Loc, model: ModelConfig, views: list[tuple[int | None, RuntimeView]]) -> Iterator:
    """KServe's runtime selection, done at preview: the named runtime, or an auto-selected one, must exist in the
    model's namespace and support its format (+version) and protocol; otherwise KServe reports
    NoSupportingRuntime after `pulumi up`."""
    assert model.format is not None
    # KServe considers only runtimes whose multi-model setting matches the predictor's (GetSupportingRuntimes).
    visible = [
        view for _, view in views if view.visible_in(model.namespace) and view.multi_model == model.is_multi_model
    ]
    if model.is_multi_model and not any(
        any(f.matches(model.format, model.format_version) for f in view.formats) for view in visible
    ):
        yield (
            (*where, "storageUri"),
            (
                f"model '{model.namespace}/{model.name}': a built-in runtime needs the model artifact's location, e.g. "
                "gs://seldon-models/sklearn/iris, or a storage spec (storage: {key, path}); without either KServe "
                "serves the predictor multi-model, and no runtime with multiModel: true serves "
                f"{model.format} in namespace '{model.namespace}' (KServe: NoSupportingRuntime; declare one under "
                "runtimes)"
            ),
        )
        return
    version = f" version {model.format_version}" if model.format_version else ""
    wanted = f"{model.format}{version} over protocol {model.protocol}"
    if model.runtime is not None:
        named = [view for view in visible if view.name == model.runtime]
        other_kind = [view for _, view in views if view.name == model.runtime and view.visible_in(model.namespace)]
        if not named and other_kind:
            serves = "only models without" if other_kind[0].multi_model else "only models with"
            yield (
                (*where, "runtime"),
                (
                    f"'{model.runtime}' is a {'multi' if other_kind[0].multi_model else 'single'}-model runtime: it "
                    f"serves {serves} storageUri/storage (KServe: NoSupportingRuntime); pick another runtime"
                ),
            )
        elif not named:
            names = sorted({view.name for view in visible})
            close = difflib.get_close_matches(model.runtime, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            yield (
                (*where, "runtime"),
                (
                    f"no runtime '{model.runtime}' is available in namespace '{model.namespace}'{hint} Available: "
                    f"{', '.join(names)} (declare a custom one under runtimes)"
                ),
            )
        elif not any(view.supports(model.format, model.format_version, model.protocol, False) for view in named):
            yield (
                (*where, "runtime"),
                (
                    f"{named[0].kind} '{model.runtime}' does not serve {wanted}: it supports "
                    f"{_describe_support(named[0])}; pick another runtime or change format/protocolVersion"
                ),
            )
        return
    if any(view.supports(model.format, model.format_version, model.protocol, True) for view in visible):
        return
    offers = [
        f"{view.name} ({', '.join(view.protocols)})"
        for view in visible
        if any(f.matches(model.format, model.format_version) for f in view.formats)
    ]
    if offers:
        fix = f"runtimes that know the format speak other protocols: {'; '.join(offers)}; set protocolVersion to one"
    else:
        known = sorted({f.name for view in visible for f in view.formats})
        close = difflib.get_close_matches(model.format, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        fix = (
            f"{hint}no runtime knows this format (known: {', '.join(repr(name) for name in known)}); or declare a "
            "custom runtime under runtimes that supports it"
        )
    yield (*where, "format"), f"no enabled runtime auto-selects {wanted} (KServe: NoSupportingRuntime): {fix}"


def _describe_support(view: RuntimeView) -> str:
    formats = ", ".join(f"{f.name}{' ' + f.version if f.version else ''}" for f in view.formats)
    return f"{formats} over {', '.join(view.protocols)}"


def _credential_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    by_key: dict[tuple[str, str], StorageCredentialConfig] = {}
    for index, entry in facts.credentials:
        where = ("storageCredentials", index)
        key = (entry.namespace, entry.name)
        if key in by_key:
            yield (*where, "name"), f"'{entry.name}' is already declared in namespace '{entry.namespace}'"
        by_key.setdefault(key, entry)
        if entry.namespace not in facts.namespaces:
            yield (
                (*where, "namespace"),
                (
                    f"'{entry.namespace}' is neither a model namespace nor listed in kserve.existingNamespaces; "
                    "credentials serve only models of their own namespace"
                ),
            )
        for path, config_key in entry.secret_refs().items():
            set_secret = f"`pulumi config set --secret {PROJECT}:{config_key} <value>`"
            if config_key in facts.secret_keys:
                continue
            loc = (*where, *path.split("."))
            if config_key in facts.plain_keys:
                yield (
                    loc,
                    (
                        f"config key '{config_key}' is stored in plaintext in the stack file; remove it "
                        f"(`pulumi config rm {PROJECT}:{config_key}`) and set it again as a secret: {set_secret}"
                    ),
                )
            else:
                yield loc, f"secret config key '{config_key}' is not set; set it with {set_secret}"
    referenced = {key for _, entry in facts.credentials for key in entry.secret_refs().values()}
    if facts.all_credentials_valid:
        for key in sorted(facts.secret_keys - referenced - set(StackConfig.allowed_keys())):
            yield (
                (key,),
                (
                    "secret config key not used by any storageCredentials entry: reference it (e.g. "
                    f"s3.secretAccessKeySecret: {key}) or remove it with `pulumi config rm {PROJECT}:{key}`"
                ),
            )
    for index, model in facts.models:
        if model.storage_credentials is None:
            continue
        entry = by_key.get((model.namespace, model.storage_credentials))
        if entry is None:
            names = sorted(name for namespace, name in by_key if namespace == model.namespace)
            yield (
                ("models", index, "storageCredentials"),
                (
                    f"no storageCredentials entry '{model.storage_credentials}' in namespace '{model.namespace}' "
                    f"(declared there: {', '.join(names) or 'none'})"
                ),
            )
            continue
        for where, uri in _storage_uris(index, model):
            needed = credential_type_for_uri(uri)
            if needed is not None and needed != entry.type:
                yield (
                    where,
                    (
                        f"'{uri}' needs {needed} credentials, but storageCredentials '{entry.name}' holds {entry.type} "
                        "credentials"
                    ),
                )


def _storage_uris(index: int, model: ModelConfig) -> Iterator[tuple[Loc, str | None]]:
    yield ("models", index, "storageUri"), model.storage_uri
    for position, canary in enumerate(model.canary):
        if canary.storage_uri is not None:
            yield ("models", index, "canary", position, "storageUri"), canary.storage_uri


def storage_warnings(stack: StackConfig) -> list[str]:
    """Models whose bucket usually needs credentials but have none: a warning, not an error, because public
    buckets (such as gs://seldon-models) are read anonymously."""
    out: list[ConfigIssue] = []
    for index, model in enumerate(stack.models):
        if model.storage_credentials is not None or model.service_account_name is not None:
            continue
        for where, uri in _storage_uris(index, model):
            needed = credential_type_for_uri(uri)
            public = uri is not None and uri.startswith(tuple(stack.public_storage_uri_prefixes))
            if needed is not None and not public:
                message = (
                    f"'{uri}' is read without credentials; unless the bucket is public, the "
                    f"storage initializer fails with 'Unable to locate credentials'. Declare a storageCredentials "
                    f"entry ({needed}) in namespace '{model.namespace}' and set models[{index}].storageCredentials "
                    "to its name (or, for a public bucket, add its prefix to publicStorageUriPrefixes)"
                )
                out.append(ConfigIssue(format_path(where), message))
    entries = [{"name": model.name, "namespace": model.namespace} for model in stack.models]
    return [str(issue) for issue in name_models(out, entries)]
