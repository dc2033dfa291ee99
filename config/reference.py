"""The config reference (docs/reference/config.md), generated from the config models through their JSON Schema,
so every key, type, default, allowed value and description comes from the code that validates it.

Written by `python -m cli docs`; a test fails when the committed file is stale.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from pydantic import BaseModel

from config.model_files import MODEL_FILES_KEY
from config.schema import MODEL_FILE_SCHEMA_PATH, SCHEMA_PATH, config_schema
from config.stack import PROJECT, StackConfig

REFERENCE_PATH = "docs/reference/config.md"
PIPE = "\\|"  # a literal | inside a Markdown table cell

# Blocks whose keys mirror a Kubernetes or KServe API object one to one (their docstring names it): the reference
# lists their keys and types and points at the upstream documentation for their meaning.
API_MIRROR_MODULES = ("config.kubernetes", "config.scheduling")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any], sections: dict[str, str]) -> str:
    """A short, readable type: `string`, `list of` [model](#anchor), `one of: a, b`, `x or y`."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{sections[name]}](#{_anchor(sections[name])})" if name in sections else name
    if "enum" in schema:
        return "one of: " + ", ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    if "anyOf" in schema:
        members = [m for m in schema["anyOf"] if m.get("type") != "null"]
        text = " or ".join(dict.fromkeys(_type(m, sections) for m in members))
        return text + (" (or null)" if len(members) < len(schema["anyOf"]) else "")
    kind = schema.get("type")
    if kind == "array":
        return "list of " + _type(schema.get("items", {}), sections)
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return "map of string to " + _type(extra, sections)
        return "mapping"
    if kind == "string" and "pattern" in schema:
        return "string"
    return kind or "any"


def _anchor(title: str) -> str:
    return "".join(ch for ch in title.lower().replace(" ", "-") if ch.isalnum() or ch in "-_")


def _default(field: dict[str, Any]) -> str:
    if "default" not in field:
        return "required"
    value = field["default"]
    if value in ([], {}):
        return "empty"
    if value is None:
        return "unset"
    return f"`{json.dumps(value)}`"


def _sections(schema: dict[str, Any]) -> dict[str, str]:
    """Each model ($defs name) -> the key path where a user first meets it (`kserve.ingress`, `models[]`), in the
    order a reader walks the config: each block followed by the blocks inside it."""
    out: dict[str, str] = {}

    def visit(node: dict[str, Any], path: str) -> None:
        for key, field in node.get("properties", {}).items():
            key_path = f"{path}.{key}" if path else key
            for name, suffix in _models_in(field):
                if name not in out:
                    out[name] = key_path + suffix
                    visit(schema["$defs"][name], key_path + suffix)

    visit(schema, "")
    return out


def _models_in(field: dict[str, Any], suffix: str = "") -> list[tuple[str, str]]:
    if "$ref" in field:
        return [(_ref_name(field["$ref"]), suffix)]
    found = []
    for member in field.get("anyOf", []):
        found.extend(_models_in(member, suffix))
    if field.get("type") == "array":
        found.extend(_models_in(field.get("items", {}), suffix + "[]"))
    if isinstance(field.get("additionalProperties"), dict):
        found.extend(_models_in(field["additionalProperties"], suffix + ".<key>"))
    return found


def _factory_defaults(model: type[BaseModel]) -> dict[str, str]:
    """Defaults the JSON Schema leaves out (pydantic omits `default_factory` values)."""
    out = {}
    for name, field in model.model_fields.items():
        if field.default_factory is None:
            continue
        value = field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            out[field.alias or name] = "see its section"
        else:
            out[field.alias or name] = _default({"default": value})
    return out


def _table(node: dict[str, Any], sections: dict[str, str], mirror: bool, model: type[BaseModel] | None) -> list[str]:
    required = set(node.get("required", []))
    factory = _factory_defaults(model) if model else {}
    rows = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for key, field in node.get("properties", {}).items():
        default = "required" if key in required else factory.get(key) or _default(field)
        description = field.get("description", "")
        if mirror and not description:
            description = "as in the Kubernetes/KServe API object"
        cell = description.replace("|", PIPE).replace("\n", " ")
        kind = _type(field, sections).replace("|", PIPE)
        rows.append(f"| `{key}` | {kind} | {default} | {cell} |")
    return rows


def render_reference(mirror_models: set[str] | None = None) -> str:
    schema = config_schema()
    sections = _sections(schema)
    classes = _model_classes(StackConfig, {})
    mirrors = api_mirror_models() if mirror_models is None else mirror_models
    lines = [
        "<!-- Generated by `python -m cli docs` from the config models (config/); do not edit by hand. -->",
        "# Config reference",
        "",
        f"Every key a stack file sets lives under `config:` as `{PROJECT}:<key>` (e.g. `{PROJECT}:models`). Keys are",
        "camelCase; an unknown key is an error that names the allowed ones. Defaults apply when a key is absent.",
        f"Your editor can check a stack file as you type: see [editor support](../editor.md) (`{SCHEMA_PATH}`).",
        f"`models` entries can also live in model files of the repository (`{MODEL_FILES_KEY}`; each file a list of",
        f"`models[]` entries, `{MODEL_FILE_SCHEMA_PATH}`): see [hundreds of models](../recipes/model-files.md).",
        "",
        "## Top-level keys",
        "",
        *_table(schema, sections, mirror=False, model=StackConfig),
    ]
    for name, path in sorted(sections.items(), key=lambda item: item[0] in mirrors):
        node = schema["$defs"][name]
        lines += ["", f"## {path}", ""]
        if node.get("description"):
            lines += [" ".join(node["description"].split()), ""]
        lines += _table(node, sections, mirror=name in mirrors, model=classes.get(name))
    return "\n".join(lines) + "\n"


def _model_classes(model: type[BaseModel], out: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    """Every model reachable from `model`, by the name the JSON Schema gives it (its class name)."""
    if model.__name__ in out:
        return out
    out[model.__name__] = model
    for field in model.model_fields.values():
        pending = [field.annotation]
        while pending:
            annotation = pending.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _model_classes(annotation, out)
            pending.extend(get_args(annotation))
    return out


def api_mirror_models() -> set[str]:
    from config import kubernetes, scheduling

    names = set()
    for module in (kubernetes, scheduling):
        names.update(
            name for name, value in vars(module).items() if isinstance(value, type) and hasattr(value, "model_fields")
        )
    return names
