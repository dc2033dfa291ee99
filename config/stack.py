"""The whole stack config and the rules that span several entries."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from config.base import StrictModel, issues_from_validation_error
from config.credentials import StorageCredentialConfig, credential_type_for_uri
from config.errors import ConfigError, ConfigIssue, format_path, name_models
from config.kserve import ISTIO_NAMESPACE, KNATIVE_SERVING_NAMESPACE, KServeConfig
from config.kserve_admission import predictor_service_name
from config.mlserver import env_conflicts
from config.models import ModelConfig, ModelDefaults
from config.namespaces import NamespacesConfig
from config.runtimes import (
    BUILTIN_RUNTIMES,
    RuntimeConfig,
    RuntimeView,
    enabled_builtin_runtimes,
    priority_conflicts,
    priority_mismatches,
)

PROJECT = "kserve-platform"


class StackConfig(StrictModel):
    """Everything under the `kserve-platform:` namespace of a `Pulumi.<stack>.yaml`."""

    kserve: KServeConfig = Field(default_factory=KServeConfig)
    runtimes: list[RuntimeConfig] = Field(default_factory=list)
    models: list[ModelConfig] = Field(default_factory=list)
    namespaces: NamespacesConfig = Field(default_factory=NamespacesConfig)
    model_defaults: ModelDefaults = Field(default_factory=ModelDefaults)
    # Bucket credentials (Secret + ServiceAccount per entry) that models name in `storageCredentials`.
    storage_credentials: list[StorageCredentialConfig] = Field(default_factory=list)
    # Buckets readable anonymously (e.g. gs://seldon-models/): models there need no credentials, so no warning.
    public_storage_uri_prefixes: list[str] = Field(default_factory=list)
    # Protect every resource the stack declares from deletion (`pulumi up` refuses to delete them until
    # unprotected). Production stacks set this.
    protect: bool = False

    @property
    def predictor_client_namespaces(self) -> list[str] | None:
        """Namespaces the model namespaces' NetworkPolicy admits, or None when the policy is switched off.

        The KServe controller, and the data path in front of the models: Envoy Gateway's proxies (which run in its
        own namespace) for Gateway API in Standard mode; Knative's activator and the Istio ingress gateway in Knative
        mode. An existing ingress controller's namespace is the user's to add (`namespaces.networkPolicy`).
        """
        policy = self.namespaces.network_policy
        if not policy.enabled:
            return None
        clients = {self.kserve.namespace, *policy.allow_from_namespaces}
        if self.kserve.deployment_mode == "Knative":
            clients |= {KNATIVE_SERVING_NAMESPACE, ISTIO_NAMESPACE}
        elif self.kserve.ingress.mode == "gatewayApi":
            clients.add(self.kserve.ingress.gateway_api.envoy_gateway.namespace)
        return sorted(clients)

    @property
    def model_namespaces(self) -> list[str]:
        """Namespaces the program creates for models, in first-use order."""
        existing = set(self.kserve.existing_namespaces)
        return list(dict.fromkeys(m.namespace for m in self.models if m.namespace not in existing))

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


def parse_stack_config(values: Mapping[str, Any], secret_keys: Collection[str] = ()) -> StackConfig:
    """Validate raw stack values (top-level keys without the `kserve-platform:` prefix).

    `secret_keys` names the config keys set with `--secret` that are not structured config: their values are
    never read here, only whether the credentials that reference them find them.
    Raises `ConfigError` listing every problem, each with its key path, or returns the typed config.
    """
    if not isinstance(values, Mapping):
        raise ConfigError([ConfigIssue("<root>", "the stack config must be a mapping of keys to values")])
    issues: list[ConfigIssue] = []
    stack: StackConfig | None = None
    # Model entries are checked against install settings (e.g. storage prefixes a ClusterStorageContainer serves).
    kserve = _valid_or_none(KServeConfig, values.get("kserve")) or KServeConfig()
    context = {"extra_storage_uri_prefixes": tuple(kserve.extra_storage_uri_prefixes)}
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
        models=models,
        runtimes=runtimes,
        credentials=credentials,
        secret_keys=set(secret_keys),
        plain_keys=set(values),
        all_credentials_valid=len(credentials) == len(raw_credentials if isinstance(raw_credentials, list) else []),
    )
    for loc, message in _stack_rules(facts):
        issues.append(ConfigIssue(format_path(loc), message))
    if issues or stack is None:
        raise ConfigError(name_models(issues, values.get("models")))
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
    models: list[tuple[int, ModelConfig]]
    runtimes: list[tuple[int, RuntimeConfig]]
    credentials: list[tuple[int, StorageCredentialConfig]]
    secret_keys: set[str]
    plain_keys: set[str]
    all_credentials_valid: bool

    @property
    def namespaces(self) -> set[str]:
        """Namespaces that will exist: those of the models (created) and the declared existing ones."""
        return {model.namespace for _, model in self.models} | set(self.kserve.existing_namespaces)


def _stack_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    for loc, message in facts.kserve.install_issues():
        yield ("kserve", *loc), message
    yield from _model_rules(facts)
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
                        f"{model.key}: KServe would name this predictor's Deployment and Service '{service}', as it "
                        f"names the predictor of {format_path(owners[key][0])}; rename the model or the canary"
                    ),
                )
            owners.setdefault(key, (where, model.name))


def _model_rules(facts: _Facts) -> Iterator[tuple[Loc, str]]:
    yield from _predictor_name_clashes(facts)
    seen: dict[tuple[str, str], int] = {}
    former: dict[str, int] = {}
    current = {f"{model.namespace}/{model.name}" for _, model in facts.models}
    for index, model in facts.models:
        where = ("models", index)
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
        if model.is_custom_image or model.format is None:
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
    visible = [view for _, view in views if view.visible_in(model.namespace)]
    version = f" version {model.format_version}" if model.format_version else ""
    wanted = f"{model.format}{version} over protocol {model.protocol}"
    if model.runtime is not None:
        named = [view for view in visible if view.name == model.runtime]
        if not named:
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
