"""Typed stack config straight from the stack files, without Pulumi: for tools beside the program
(`python -m cli serve`, benchmarks, policies) that need the same `StackConfig` the program validates.

    python -m cli check-secrets --stack prod   # exit 1, naming the commands, if a secret key is unset

The check is what `pulumi-up.yml` runs before `pulumi up`: the committed stack files hold no ciphertext, so each
team sets the secret keys with its own secrets provider and commits the `secure:` values the CLI writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from config.errors import ConfigError, ConfigIssue
from config.model_files import PROJECT_DIR, model_entries, with_model_entries
from config.stack import PROJECT, StackConfig, parse_stack_config
from offline.stackfile import StackSettings, read_stack_settings


def _decode(text: str) -> Any:
    # What `pulumi.Config.get_object` does (and `config.source` falls back to the text when it is not JSON).
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def config_values(settings: StackSettings) -> dict[str, Any]:
    """The `kserve-platform:` keys of flat stack settings, decoded, without the project prefix."""
    prefix = f"{PROJECT}:"
    return {key[len(prefix) :]: _decode(text) for key, text in settings.config.items() if key.startswith(prefix)}


def stack_values(settings: StackSettings, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The raw values the loader validates: `config_values` with the model files' entries added to `models`."""
    values = config_values(settings)
    return with_model_entries(values, model_entries(values, project_dir))


def typed_config(settings: StackSettings, project_dir: Path = PROJECT_DIR) -> StackConfig:
    """Validate flat stack settings into `StackConfig`; raises `ConfigError` with every problem.

    As `config.source.load_stack_config` does under Pulumi: secret keys that are not structured config (the
    credentials' access keys) are passed by name only, never as values; model files are read from `project_dir`;
    a config too large for the engine to hand to the program is an error."""
    prefix = f"{PROJECT}:"
    structured = set(StackConfig.allowed_keys())
    secrets = {key[len(prefix) :] for key in settings.secret_keys if key.startswith(prefix)} - structured
    values = {key: value for key, value in config_values(settings).items() if key not in secrets}
    return parse_stack_config(values, secret_keys=secrets, project_dir=project_dir, passed_config=settings.config)


def stack_file_for(stack: str, config_file: Path | None = None, project_dir: Path = PROJECT_DIR) -> Path:
    """`Pulumi.<stack>.yaml` in the project, or the explicitly given file."""
    return config_file if config_file is not None else project_dir / f"Pulumi.{stack}.yaml"


def committed_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Stacks with a `Pulumi.<stack>.yaml` in the project."""
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml"))


def missing_stack(stack_file: Path, project_dir: Path = PROJECT_DIR) -> ConfigIssue:
    """The error for a stack file that does not exist, listing the stacks that do."""
    stacks = ", ".join(committed_stacks(project_dir)) or "none"
    return ConfigIssue(
        str(stack_file), f"no such stack file (stacks here: {stacks}); create it, or pass --config-file <file>"
    )


def load_stack_config(
    stack: str, config_file: Path | None = None, project_dir: Path = PROJECT_DIR
) -> tuple[Path, StackConfig]:
    """The typed config of a stack (its file and the parsed config); `ConfigError` when missing or invalid."""
    stack_file = stack_file_for(stack, config_file, project_dir)
    if not stack_file.is_file():
        raise ConfigError([missing_stack(stack_file, project_dir)])
    return stack_file, typed_config(read_stack_settings(project_dir / "Pulumi.yaml", stack_file), project_dir)


def unset_secret_commands(stack: str, config_file: Path | None = None, project_dir: Path = PROJECT_DIR) -> list[str]:
    """`pulumi config set --secret` commands for every secret key the stack's credentials read but its file does
    not set (empty when `pulumi up` has every secret it needs). The stack is validated first, as the program would
    (model files included): `ConfigError` when it is invalid."""
    stack_file = stack_file_for(stack, config_file, project_dir)
    if not stack_file.is_file():
        raise ConfigError([missing_stack(stack_file, project_dir)])
    settings = read_stack_settings(project_dir / "Pulumi.yaml", stack_file)
    typed_config(settings, project_dir)
    return [f"pulumi config set --secret --stack {stack} {key} <value>" for key in settings.stand_in_keys]
