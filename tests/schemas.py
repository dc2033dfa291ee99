"""Validate rendered objects against the real CRD schemas, as a Kubernetes API server with strict field
validation would: types, enums, patterns, required fields, and unknown fields rejected."""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

SHARED = Path(__file__).resolve().parents[2] / "shared"
KSERVE_DIR = SHARED / "kserve" / "v0.20.0"
CRD_DIRS = [
    KSERVE_DIR / "crds",
    SHARED / "deps" / "gateway-api" / "v1.5.1" / "crds",
    SHARED / "deps" / "cert-manager" / "v1.17.0" / "crds",
    SHARED / "deps" / "knative-operator" / "v1.21.4" / "crds",
    SHARED / "deps" / "envoy-gateway" / "v1.8.1" / "crds",
    SHARED / "deps" / "prometheus-operator" / "v0.93.0" / "crds",
]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def require_shared() -> None:
    if not KSERVE_DIR.is_dir():
        reason = f"the upstream KServe v0.20.0 files are not at {KSERVE_DIR} (CI has ../shared beside the checkout)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _strict(schema: Any) -> Any:
    """Reject unknown fields wherever the CRD does not preserve them (the API server's strict validation)."""
    if isinstance(schema, dict):
        out = {key: _strict(value) for key, value in schema.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@cache
def _validators() -> dict[tuple[str, str], jsonschema.Validator]:
    require_shared()
    validators: dict[tuple[str, str], jsonschema.Validator] = {}
    for folder in CRD_DIRS:
        for path in sorted(folder.glob("*.yaml")):
            for crd in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                    # metadata is the API server's own ObjectMeta, checked separately below.
                    schema.get("properties", {}).pop("metadata", None)
                    validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
                    validators[(f"{group}/{version['name']}", kind)] = validator_cls(_strict(schema))
    return validators


def has_schema(obj: dict[str, Any]) -> bool:
    return (obj.get("apiVersion"), obj.get("kind")) in _validators()


def schema_errors(obj: dict[str, Any]) -> list[str]:
    """Every way `obj` breaks its CRD's schema (empty when it is valid); unknown kinds are an error."""
    validator = _validators().get((obj.get("apiVersion"), obj.get("kind")))
    if validator is None:
        return [f"no CRD schema for {obj.get('apiVersion')} {obj.get('kind')}"]
    errors = []
    metadata = obj.get("metadata") or {}
    if not metadata.get("name"):
        errors.append("metadata.name: required")
    body = {key: value for key, value in obj.items() if key != "metadata"}
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(part) for part in error.absolute_path) or "<root>"
        errors.append(f"{where}: {error.message}")
    return errors
