"""Read the stack config from Pulumi (the CLI, or the offline render's mocked runtime) and validate it."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from config.images import image_warnings
from config.stack import PROJECT, StackConfig, parse_stack_config, storage_warnings


def _configured_keys() -> set[str]:
    # pulumi.Config cannot list keys; the runtime's config map (set by the CLI or by set_all_config) can.
    # Listing them is what lets a misspelt top-level key (`kserve-platform:model`) be an error, not a no-op.
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{PROJECT}:"
    return {key[len(prefix) :] for key in keys if key.startswith(prefix)}


def _is_secret(key: str) -> bool:
    qualified = f"{PROJECT}:{key}"
    return runtime_config.is_config_secret(qualified) or qualified in runtime_config.get_config_secret_keys_env()


def _read(config: pulumi.Config, key: str) -> Any:
    try:
        return config.get_object(key)
    except pulumi.ConfigTypeError:
        # Not JSON (e.g. `models: foo`): hand the text to validation, which names the key and the type it wants.
        return config.get(key)


def load_stack_config() -> StackConfig:
    """The typed config of the running stack; raises `ConfigError` (every problem at once) when invalid.

    Secret keys that are not structured config (the credentials' access keys) are listed but never read here:
    their values reach the program only as Pulumi secret outputs (`secret_value`)."""
    config = pulumi.Config(PROJECT)
    structured = set(StackConfig.allowed_keys())
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key in sorted(_configured_keys() | structured):
        if key not in structured and _is_secret(key):
            secret_keys.add(key)
            continue
        value = _read(config, key)
        if value is not None:
            values[key] = value
    stack = parse_stack_config(values, secret_keys=secret_keys)
    # A stack that renders to a directory (`local`) pulls no image: no registry warning there.
    renders_only = bool(pulumi.Config("kubernetes").get("renderYamlToDirectory"))
    for warning in [*storage_warnings(stack), *([] if renders_only else image_warnings(stack.models))]:
        pulumi.log.warn(warning)
    return stack


def secret_value(key: str) -> pulumi.Output[str]:
    """A secret config value (`pulumi config set --secret kserve-platform:<key>`), kept a Pulumi secret."""
    return pulumi.Config(PROJECT).require_secret(key)
