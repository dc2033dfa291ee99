"""The size of the stack config as Pulumi hands it to the program, against the one limit that makes it fail.

Pulumi's Python language host passes the whole config to the program in ONE environment variable: `PULUMI_CONFIG`, the
JSON of `{"<namespace>:<key>": "<value text>"}` (pulumi-language-python `Run`: `env = append(env,
pulumiConfigVar+"="+config)`, where `config` is Go's `json.Marshal` of the request's config map; the Python SDK reads it
back in `pulumi/runtime/config.py`, `get_config_env`). The engine passes a policy pack its config the same way
(`constructEnv` in sdk/go/common/resource/plugin/analyzer_plugin.go). Linux refuses to start a process with any single
environment string longer than MAX_ARG_STRLEN (32 pages: 131072 bytes with 4 KiB pages, counting the terminating NUL):
`exec` fails with E2BIG and the engine reports "argument list too long" before one line of the program runs. Splitting
the models across keys does not help (one variable); keeping them in model files does (`config.model_files`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from config.errors import ConfigIssue
from config.model_files import MODEL_FILE_DOCS, MODEL_FILES_KEY

ENV_VAR = "PULUMI_CONFIG"
# MAX_ARG_STRLEN (include/uapi/linux/binfmts.h: PAGE_SIZE * 32) on 4 KiB pages, the common case (x86-64, most arm64).
MAX_ENV_STRING_BYTES = 32 * 4096
# Above this share of the limit the program warns, so a growing stack moves to model files before it breaks.
WARN_SHARE = 0.75
_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _go_numbers(value: Any) -> Any:
    # Go prints a float that holds an integer without a fraction (1.0 -> 1), as YAML-decoded config can carry.
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {key: _go_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_go_numbers(item) for item in value]
    return value


def go_json(value: Any) -> str:
    """`value` as Go's encoding/json marshals it: compact, map keys sorted, `<`, `>`, `&`, U+2028/9 escaped, other
    non-ASCII characters as UTF-8."""
    text = json.dumps(_go_numbers(value), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for character, escaped in _GO_HTML_ESCAPES.items():
        text = text.replace(character, escaped)
    return text


def _value_text(text: str) -> str:
    # The engine passes a structured (object or list) value as Go's JSON of it and any other value as its text; the
    # offline tools hold the same value as Python's JSON text, so structured values are re-encoded the Go way.
    try:
        decoded = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text
    return go_json(decoded) if isinstance(decoded, dict | list) else text


def config_env_bytes(config: Mapping[str, str]) -> int:
    """Bytes the `PULUMI_CONFIG=...` environment string takes for this config (all namespaces, `ns:key` -> text),
    with its terminating NUL: what Linux compares with MAX_ARG_STRLEN."""
    payload = go_json({key: _value_text(text) for key, text in config.items()})
    return len(f"{ENV_VAR}={payload}".encode()) + 1


def _largest_key(config: Mapping[str, str]) -> str:
    key = max(config, key=lambda k: len(_value_text(config[k]).encode()), default="models")
    return key.partition(":")[2] or key


def config_size_issue(config: Mapping[str, str]) -> ConfigIssue | None:
    """An error when the config cannot reach the program at all (the engine would fail to start it)."""
    size = config_env_bytes(config)
    if size <= MAX_ENV_STRING_BYTES:
        return None
    return ConfigIssue(
        _largest_key(config),
        (
            f"the stack config is {size} bytes as Pulumi hands it to the program (one {ENV_VAR} environment string, "
            f"this key the largest part); Linux refuses an environment string over {MAX_ENV_STRING_BYTES} bytes, so "
            "`pulumi preview` and `pulumi up` could not start the program ('argument list too long'). Move model "
            f"entries into model files: list them under kserve-platform:{MODEL_FILES_KEY} ({MODEL_FILE_DOCS})"
        ),
    )


def config_size_warning(config: Mapping[str, str]) -> str | None:
    """A warning when the config has used most of the room the environment string allows."""
    size = config_env_bytes(config)
    if size <= MAX_ENV_STRING_BYTES * WARN_SHARE or size > MAX_ENV_STRING_BYTES:
        return None
    return (
        f"the stack config is {size} of the {MAX_ENV_STRING_BYTES} bytes Pulumi can hand the program in its "
        f"{ENV_VAR} environment string ({size * 100 // MAX_ENV_STRING_BYTES}%); past the limit `pulumi preview` cannot "
        f"start the program. Move model entries into model files (kserve-platform:{MODEL_FILES_KEY}, "
        f"{MODEL_FILE_DOCS}) before the stack grows further"
    )
