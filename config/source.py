"""Read the stack config from Pulumi (the CLI, or the offline render's mocked runtime) and validate it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from config.config_size import config_size_warning
from config.images import image_warnings
from config.model_files import PROJECT_DIR
from config.stack import PROJECT, StackConfig, parse_stack_config, storage_warnings


def _config_map() -> dict[str, str]:
    # pulumi.Config cannot list keys; the runtime's config map (set by the CLI or by set_all_config) can.
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def _configured_keys(config_map: dict[str, str]) -> set[str]:
    # Listing the keys is what lets a misspelt top-level key (`kserve-platform:model`) be an error, not a no-op.
    prefix = f"{PROJECT}:"
    return {key[len(prefix) :] for key in config_map if key.startswith(prefix)}


def project_root() -> Path:
    """Where Pulumi.yaml is: model files are named relative to it. Language hosts that pass the root say so
    (`pulumi.get_root_directory()`, which the offline render sets too); older ones run the program there."""
    root = pulumi.get_root_directory()
    return Path(root) if root and Path(root).is_dir() else PROJECT_DIR


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
    config_map = _config_map()
    structured = set(StackConfig.allowed_keys())
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key in sorted(_configured_keys(config_map) | structured):
        if key not in structured and _is_secret(key):
            secret_keys.add(key)
            continue
        value = _read(config, key)
        if value is not None:
            values[key] = value
    stack = parse_stack_config(values, secret_keys=secret_keys, project_dir=project_root(), passed_config=config_map)
    # A stack that renders to a directory (`local`) pulls no image: no registry warning there.
    renders_only = bool(pulumi.Config("kubernetes").get("renderYamlToDirectory"))
    warnings = [*storage_warnings(stack), *([] if renders_only else image_warnings(stack.models))]
    for warning in [config_size_warning(config_map), *map(stack.where, warnings)]:
        if warning:
            pulumi.log.warn(warning)
    return stack


def secret_value(key: str) -> pulumi.Output[str]:
    """A secret config value (`pulumi config set --secret kserve-platform:<key>`), kept a Pulumi secret."""
    return pulumi.Config(PROJECT).require_secret(key)
