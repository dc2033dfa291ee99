"""The whole stack config and the rules that span several entries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from config.base import StrictModel, issues_from_validation_error
from config.errors import ConfigError, ConfigIssue, format_path
from config.kserve import KServeConfig
from config.mlserver import env_conflicts
from config.models import ModelConfig
from config.runtimes import RuntimeConfig

PROJECT = "kserve-platform"


class StackConfig(StrictModel):
    """Everything under the `kserve-platform:` namespace of a `Pulumi.<stack>.yaml`."""

    kserve: KServeConfig = Field(default_factory=KServeConfig)
    runtimes: list[RuntimeConfig] = Field(default_factory=list)
    models: list[ModelConfig] = Field(default_factory=list)
    # Protect every resource the stack declares from deletion (`pulumi up` refuses to delete them until
    # unprotected). Production stacks set this.
    protect: bool = False

    @property
    def model_namespaces(self) -> list[str]:
        """Namespaces the program creates for models, in first-use order."""
        existing = set(self.kserve.existing_namespaces)
        return list(dict.fromkeys(m.namespace for m in self.models if m.namespace not in existing))


def parse_stack_config(values: Mapping[str, Any]) -> StackConfig:
    """Validate raw stack values (top-level keys without the `kserve-platform:` prefix).

    Raises `ConfigError` listing every problem, each with its key path, or returns the typed config.
    """
    if not isinstance(values, Mapping):
        raise ConfigError([ConfigIssue("<root>", "the stack config must be a mapping of keys to values")])
    issues: list[ConfigIssue] = []
    stack: StackConfig | None = None
    # Model entries are checked against install settings (e.g. storage prefixes a ClusterStorageContainer serves).
    kserve = _valid_or_none(KServeConfig, values.get("kserve")) or KServeConfig()
    context = {"extra_storage_uri_prefixes": tuple(kserve.extra_storage_uri_prefixes)}
    try:
        stack = StackConfig.model_validate(dict(values), context=context)
    except ValidationError as error:
        issues.extend(issues_from_validation_error(error, StackConfig))

    # When some entries are malformed, still check the rules of the well-formed ones so one run reports all.
    models = list(enumerate(stack.models)) if stack else _valid_items(ModelConfig, values.get("models"), context)
    runtimes = list(enumerate(stack.runtimes)) if stack else _valid_items(RuntimeConfig, values.get("runtimes"))
    for loc, message in _stack_rules(kserve, models, runtimes):
        issues.append(ConfigIssue(format_path(loc), message))
    if issues or stack is None:
        raise ConfigError(issues)
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


def _stack_rules(
    kserve: KServeConfig,
    models: list[tuple[int, ModelConfig]],
    runtimes: list[tuple[int, RuntimeConfig]],
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    seen: dict[tuple[str, str], int] = {}
    for index, model in models:
        where = ("models", index)
        for loc, message in [*model.rule_issues(), *env_conflicts(model)]:
            yield (*where, *loc), message
        key = (model.namespace, model.name)
        if key in seen:
            yield (*where, "name"), (
                f"'{model.name}' is already used by models[{seen[key]}] in namespace '{model.namespace}': "
                "InferenceService names must be unique per namespace"
            )
        else:
            seen[key] = index
        if model.canary_traffic_percent is not None and kserve.deployment_mode != "Knative":
            yield (*where, "canaryTrafficPercent"), (
                "canaryTrafficPercent splits traffic between Knative revisions and needs "
                "kserve.deploymentMode: Knative; in Standard mode remove it"
            )
    runtime_names: dict[tuple[str | None, str], int] = {}
    for index, runtime in runtimes:
        key = (runtime.namespace, runtime.name)
        if key in runtime_names:
            yield ("runtimes", index, "name"), f"'{runtime.name}' is already declared by runtimes[{runtime_names[key]}]"
        else:
            runtime_names[key] = index
