"""Read `Pulumi.yaml` and `Pulumi.<stack>.yaml` the way the Pulumi CLI hands them to a program."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.credentials import StorageCredentialConfig
from config.errors import ConfigError, ConfigIssue

# libyaml's loader where PyYAML was built with it (a large stack file parses ~10x faster), else the Python one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# What the render passes for a `secure:` value it cannot decrypt (it never sees a passphrase or a KMS key).
UNDECRYPTED_SECRET = "[secret: encrypted in the stack file]"
# What the render passes, marked secret, for a secret config key that `storageCredentials` reads but the stack file
# does not set: the committed stack files hold no ciphertext (only the user's own secrets provider can write it), so
# without a stand-in the offline render could not exercise the secret path. Never reaches a cluster: the real
# program (`config.source`) refuses an unset key and names the `pulumi config set --secret` command.
STAND_IN_SECRET = "[stand-in for secret config key {key}: offline render only, set it with pulumi config set --secret]"


@dataclass
class StackSettings:
    """Flat config as the CLI passes it (`project:key` -> JSON text) and which keys hold secrets."""

    config: dict[str, str] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)
    # Secret keys the file does not set that were given a stand-in value (`STAND_IN_SECRET`), qualified.
    stand_in_keys: list[str] = field(default_factory=list)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader)
    except OSError as error:
        raise ConfigError([ConfigIssue(str(path), f"cannot read the file: {error.strerror or error}")]) from error
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise ConfigError(
            [ConfigIssue(str(path), f"is not valid YAML{at}: {getattr(error, 'problem', error)}")]
        ) from error


def _strip_secure(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` ciphertexts (at any depth) by a placeholder; report whether there were any."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return UNDECRYPTED_SECRET, True
        found = False
        out = {}
        for key, item in value.items():
            out[key], secret = _strip_secure(item)
            found = found or secret
        return out, found
    if isinstance(value, list):
        items = [_strip_secure(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def _as_config_text(value: Any) -> str:
    # The CLI passes strings as they are and everything else (objects, lists, numbers, booleans) as JSON.
    return value if isinstance(value, str) else json.dumps(value)


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def project_defaults(project_file: Path) -> tuple[str, dict[str, Any]]:
    """Project name and the config defaults `Pulumi.yaml` declares."""
    project = _load_yaml(project_file)
    if not isinstance(project, dict) or "name" not in project:
        raise ConfigError([ConfigIssue(str(project_file), "must be a mapping with the project 'name'")])
    name = str(project["name"])
    defaults: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            defaults[_qualify(name, key)] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            defaults[_qualify(name, key)] = spec
    return name, defaults


def referenced_secret_keys(project: str, stack_config: dict[str, Any]) -> list[str]:
    """The qualified secret config keys the well-formed `storageCredentials` entries read, in declaration order
    (malformed entries are the program's to report)."""
    entries = stack_config.get(f"{project}:storageCredentials")
    keys: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            parsed = StorageCredentialConfig.model_validate(entry)
        except ValidationError:
            continue
        keys.extend(_qualify(project, key) for key in parsed.secret_refs().values())
    return list(dict.fromkeys(keys))


def read_stack_settings(project_file: Path, stack_file: Path, stand_in_secrets: bool = True) -> StackSettings:
    """Merge `Pulumi.yaml` defaults with a stack file's `config:`; raises `ConfigError` on a malformed file.

    With `stand_in_secrets` (every offline tool), a secret key the credentials read but the file does not set gets
    a stand-in value marked secret and is listed in `stand_in_keys`; without, it stays unset, as under the CLI."""
    project, values = project_defaults(project_file)
    document = _load_yaml(stack_file)
    if document is None:
        raise ConfigError([ConfigIssue(str(stack_file), "is empty: a stack file needs a 'config:' mapping")])
    if not isinstance(document, dict):
        raise ConfigError(
            [ConfigIssue(str(stack_file), f"must be a mapping with a 'config:' key, got {type(document).__name__}")]
        )
    stack_config = document.get("config") or {}
    if not isinstance(stack_config, dict):
        raise ConfigError([ConfigIssue(f"{stack_file}:config", "must be a mapping of 'project:key' to values")])
    values.update({_qualify(project, str(key)): value for key, value in stack_config.items()})

    settings = StackSettings()
    for key, value in values.items():
        plain, secret = _strip_secure(value)
        settings.config[key] = _as_config_text(plain)
        if secret:
            settings.secret_keys.append(key)
    if stand_in_secrets:
        for key in referenced_secret_keys(project, values):
            if key not in settings.config:
                settings.config[key] = STAND_IN_SECRET.format(key=key.partition(":")[2])
                settings.secret_keys.append(key)
                settings.stand_in_keys.append(key)
    return settings
