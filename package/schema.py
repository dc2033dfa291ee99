"""The Pulumi package schema of kserve-platform, generated from the config models' JSON Schema.

The config models are the one source of truth: each component's inputs are fields of a model (package/resources.py),
converted here from pydantic's JSON Schema to Pulumi's package schema. What Pulumi's schema cannot express (patterns,
bounds, rules between keys) is checked by the provider with the config's own validation when a resource is
constructed. The committed copy (`package/schema.json`) is this output in canonical JSON;
`python3 -m package.schema --write` rewrites it, a unit test keeps it fresh and an end-to-end test shows that the real
CLI's `pulumi package get-schema` returns the same.

Conversion:
- nested models become object types `kserve-platform:index:<Model>` (pydantic's definition names);
- `X | None` becomes an optional X; other unions become Pulumi unions (`oneOf`);
- a `Literal` becomes an enum type named after its owner and key (`InferenceServiceProtocolVersion`);
- `dict[str, X]` becomes a map of X, a bare `dict` a map of Any;
- defaults are not set in the schema (the SDKs would then send them as if the user had written them, and a key's
  presence matters to the validation, e.g. `protocolVersion` on a custom image); descriptions say them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from package.resources import COMPONENTS, PACKAGE, ComponentSpec

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
# Object and enum types are shared by the components, so they live in the package's index module.
TYPES_MODULE = "index"
# JSON Schema keywords that only constrain values: Pulumi's schema has no place for them, the provider's validation
# (the config models) enforces them. pydantic writes `ge`/`le` as they are for a bound on an annotated int.
VALUE_CONSTRAINTS = frozenset(
    {"pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems",
     "maxItems", "title", "default", "examples", "ge", "gt", "le", "lt"}
)  # fmt: skip
PRIMITIVES = frozenset({"string", "integer", "number", "boolean"})


def package_version() -> str:
    """The project's version (pyproject.toml), which the package shares."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


class UnsupportedSchema(ValueError):
    """A config model uses a JSON Schema construct this converter does not translate (never silently dropped)."""


class _Converter:
    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        self.types: dict[str, Any] = {}

    def add_definitions(self, model: type[BaseModel]) -> dict[str, Any]:
        """The model's JSON Schema (stack-file spelling); its nested definitions join the shared pool."""
        schema = model.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            if name in self.defs and self.defs[name] != definition:
                raise UnsupportedSchema(f"two config models define {name!r} differently")
            self.defs[name] = definition
        return schema

    def token(self, name: str) -> str:
        return f"{PACKAGE}:{TYPES_MODULE}:{name}"

    def property(self, schema: dict[str, Any], owner: str, key: str) -> dict[str, Any]:
        spec = self.type_of(schema, owner, key)
        # pydantic leaves out a field's description when it repeats the referenced model's docstring.
        referenced = self.defs.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})
        description = schema.get("description") or referenced.get("description")
        if description:
            spec["description"] = description
        return spec

    def type_of(self, schema: dict[str, Any], owner: str, key: str) -> dict[str, Any]:
        unknown = set(schema) - VALUE_CONSTRAINTS - {
            "type", "$ref", "anyOf", "items", "additionalProperties", "enum", "const", "description",
        }  # fmt: skip
        if unknown:
            raise UnsupportedSchema(f"{owner}.{key}: JSON Schema keywords {sorted(unknown)} are not translated")
        if "anyOf" in schema:
            members = [member for member in schema["anyOf"] if member != {"type": "null"}]
            if len(members) == 1:
                return self.type_of(members[0], owner, key)
            converted: list[dict[str, Any]] = []
            for member in members:
                spec = self.type_of(member, owner, key)
                if spec not in converted:
                    converted.append(spec)
            return {"oneOf": converted} if len(converted) > 1 else converted[0]
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            self.object_type(name)
            return {"$ref": f"#/types/{self.token(name)}"}
        if "enum" in schema:
            return self.enum_type(schema, owner, key)
        kind = schema.get("type")
        if "const" in schema:
            if kind not in PRIMITIVES:
                raise UnsupportedSchema(f"{owner}.{key}: const of type {kind!r}")
            return {"type": kind, "const": schema["const"]}
        if kind in PRIMITIVES:
            return {"type": kind}
        if kind == "array":
            return {"type": "array", "items": self.type_of(schema.get("items", {}), owner, key)}
        if kind == "object":
            values = schema.get("additionalProperties", True)
            item = {"$ref": "pulumi.json#/Any"} if values in (True, {}) else self.type_of(values, owner, key)
            return {"type": "object", "additionalProperties": item}
        if not schema:
            return {"$ref": "pulumi.json#/Any"}
        raise UnsupportedSchema(f"{owner}.{key}: JSON Schema {schema} is not translated")

    def enum_type(self, schema: dict[str, Any], owner: str, key: str) -> dict[str, Any]:
        values = schema["enum"]
        kinds = {type(value) for value in values}
        if kinds != {str}:
            raise UnsupportedSchema(f"{owner}.{key}: enum of {kinds}")
        name = f"{owner}{key[0].upper()}{key[1:]}"
        spec = {"type": "string", "enum": [{"value": value} for value in values]}
        if self.types.setdefault(self.token(name), spec) != spec:
            raise UnsupportedSchema(f"two enums are named {name}")
        return {"$ref": f"#/types/{self.token(name)}"}

    def object_type(self, name: str) -> None:
        token = self.token(name)
        if token in self.types:
            return
        definition = self.defs[name]
        if definition.get("type") != "object":
            raise UnsupportedSchema(f"definition {name} is not an object")
        # Reserved before the properties are converted, so a type that refers to itself terminates.
        spec: dict[str, Any] = {"type": "object"}
        self.types[token] = spec
        if definition.get("description"):
            spec["description"] = definition["description"]
        spec["properties"] = {
            key: self.property(value, name, key) for key, value in definition.get("properties", {}).items()
        }
        if definition.get("required"):
            spec["required"] = list(definition["required"])

    def resource(self, component: ComponentSpec) -> dict[str, Any]:
        inputs: dict[str, Any] = {}
        required: list[str] = []
        for source in component.inputs:
            schema = self.add_definitions(source.model)
            for key in source.input_keys():
                inputs[key] = self.property(schema["properties"][key], component.name, key)
                if key in schema.get("required", []):
                    required.append(key)
        return {
            "isComponent": True,
            "description": component.description,
            "inputProperties": inputs,
            # Omitted when empty, as the CLI writes a schema (Go's omitempty).
            **({"requiredInputs": required} if required else {}),
            "properties": {
                output.key: {**output.type, "description": output.description} for output in component.outputs
            },
            "required": [output.key for output in component.outputs],
        }


def package_schema() -> dict[str, Any]:
    """The package schema `pulumi package get-schema` returns for the provider."""
    converter = _Converter()
    resources = {component.token: converter.resource(component) for component in COMPONENTS}
    return {
        "name": PACKAGE,
        "version": package_version(),
        "description": (
            "KServe and MLServer models on Kubernetes as typed components: the KServe install, custom serving "
            "runtimes and InferenceServices, validated against KServe's own admission rules before anything is "
            "registered. The inputs are the keys of a kserve-platform stack file."
        ),
        # The package has no provider configuration; written as the CLI writes a schema (`config` is not omitempty).
        "config": {},
        "keywords": ["kubernetes", "kserve", "mlserver", "category/cloud", "kind/component"],
        "resources": resources,
        "types": dict(sorted(converter.types.items())),
    }


def canonical(schema: dict[str, Any]) -> str:
    """The committed form of a schema: sorted keys, two-space indent (the CLI's key order is Go's, not ours)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m package.schema", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {SCHEMA_PATH.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    text = canonical(package_schema())
    if args.write:
        SCHEMA_PATH.write_text(text)
        print(f"wrote {SCHEMA_PATH.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
