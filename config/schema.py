"""The JSON Schema of a whole `Pulumi.<stack>.yaml`, generated from the config models (one source of truth).

Editors that speak the YAML language server use it for completion, hover text and inline errors while a user
types a stack file (`# yaml-language-server: $schema=...` at the top of each committed stack file). The committed
copy (`schema/stack-file.schema.json`) is written by `python -m cli schema` and a test fails when it is stale.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import TypeAdapter

from config.model_files import MODEL_FILES_KEY
from config.models import ModelConfig
from config.stack import PROJECT, StackConfig

SCHEMA_PATH = "schema/stack-file.schema.json"
# What the modeline at the top of each stack file says, relative to the stack file (both live at the project root).
MODELINE = f"# yaml-language-server: $schema=./{SCHEMA_PATH}"
MODEL_FILE_SCHEMA_PATH = "schema/model-file.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# A secret config key (the storage credentials' access keys), as `pulumi config set --secret` writes it.
SECRET_VALUE = {
    "type": "object",
    "description": (
        "A secret config key read by a storageCredentials entry (e.g. s3.accessKeyIdSecret names it). Set it with "
        "`pulumi config set --secret`, which writes this `secure:` form; never in plaintext."
    ),
    "properties": {"secure": {"type": "string", "description": "ciphertext written by the Pulumi CLI"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def config_schema() -> dict[str, Any]:
    """The schema of the `kserve-platform:` keys, as pydantic validates them (camelCase keys)."""
    return StackConfig.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")


def stack_file_schema() -> dict[str, Any]:
    """The schema of a whole stack file: `config:` holds `kserve-platform:<key>` entries (strict: a misspelt key
    is an error), secret keys in their `secure:` form, and other namespaces' keys (`kubernetes:...`) untouched."""
    config = config_schema()
    keys = list(config["properties"])
    known = "|".join(re.escape(key) for key in keys)
    properties = {f"{PROJECT}:{key}": value for key, value in config["properties"].items()}
    return {
        "$schema": DRAFT,
        "title": f"Pulumi.<stack>.yaml of {PROJECT}",
        "description": (
            f"A stack file of the {PROJECT} Pulumi project. Generated from the config models by "
            "`python -m cli schema`; the config reference is docs/reference/config.md."
        ),
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "description": config.get("description", ""),
                "properties": properties,
                "patternProperties": {
                    # Any other key of this project is a secret the credentials read: only its `secure:` form.
                    f"^{re.escape(PROJECT)}:(?!({known})$)[^:]+$": SECRET_VALUE,
                    # Keys of other namespaces (kubernetes:renderYamlToDirectory, pulumi:...) are not ours.
                    f"^(?!{re.escape(PROJECT)}:)[^:]+:.+$": {},
                },
                "additionalProperties": False,
            },
            "secretsprovider": {"type": "string", "description": "the stack's secrets provider (Pulumi)"},
            "encryptedkey": {"type": "string", "description": "the stack's encrypted data key (Pulumi)"},
            "encryptionsalt": {"type": "string", "description": "the passphrase provider's salt (Pulumi)"},
            "environment": {"description": "Pulumi ESC environments the stack imports"},
        },
        "additionalProperties": False,
        "$defs": config.get("$defs", {}),
    }


def model_file_schema() -> dict[str, Any]:
    """The schema of a model file (`modelFiles`): a list of entries, each exactly a `models[]` entry."""
    entries = TypeAdapter(list[ModelConfig]).json_schema(
        by_alias=True, mode="validation", ref_template="#/$defs/{model}"
    )
    return {
        "$schema": DRAFT,
        "title": f"model file of {PROJECT}",
        "description": (
            f"A file named by {PROJECT}:{MODEL_FILES_KEY}: a YAML list of model entries, each as under "
            f"{PROJECT}:models. Generated from the config models by `python -m cli schema`."
        ),
        **entries,
    }


def model_file_modeline(model_file: str) -> str:
    """The modeline for a model file at `model_file` (relative to the project root): the schema, relative to it."""
    depth = model_file.count("/")
    return f"# yaml-language-server: $schema={'../' * depth or './'}{MODEL_FILE_SCHEMA_PATH}"


def render_schema() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=False) + "\n"


def render_model_file_schema() -> str:
    return json.dumps(model_file_schema(), indent=2, sort_keys=False) + "\n"
