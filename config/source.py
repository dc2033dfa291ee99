"""Read the stack config from Pulumi (the CLI, or the offline render's mocked runtime) and validate it."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from config.stack import PROJECT, StackConfig, parse_stack_config


def _configured_keys() -> set[str]:
    # pulumi.Config cannot list keys; the runtime's config map (set by the CLI or by set_all_config) can.
    # Listing them is what lets a misspelt top-level key (`kserve-platform:model`) be an error, not a no-op.
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{PROJECT}:"
    return {key[len(prefix) :] for key in keys if key.startswith(prefix)}


def _read(config: pulumi.Config, key: str) -> Any:
    try:
        return config.get_object(key)
    except pulumi.ConfigTypeError:
        # Not JSON (e.g. `models: foo`): hand the text to validation, which names the key and the type it wants.
        return config.get(key)


def load_stack_config() -> StackConfig:
    """The typed config of the running stack; raises `ConfigError` (every problem at once) when invalid."""
    config = pulumi.Config(PROJECT)
    values: dict[str, Any] = {}
    for key in sorted(_configured_keys() | set(StackConfig.allowed_keys())):
        value = _read(config, key)
        if value is not None:
            values[key] = value
    return parse_stack_config(values)
