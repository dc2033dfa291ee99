"""Helpers for the model-side tests: run a config through the whole program and pick out what it produced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from config.errors import ConfigError
from offline.manifests import kubernetes_object
from offline.program import ProgramRun

# A minimal valid built-in-runtime model; tests override fields.
IRIS: dict[str, Any] = {
    "name": "iris",
    "namespace": "models",
    "format": "sklearn",
    "protocolVersion": "v2",
    "storageUri": "gs://seldon-models/sklearn/iris",
}
CUSTOM: dict[str, Any] = {"name": "custom", "namespace": "models", "image": "my-custom-server:0.1.0"}


def model(**fields: Any) -> dict[str, Any]:
    return {**IRIS, **fields}


def objects(run: ProgramRun, kind: str) -> list[dict[str, Any]]:
    """The Kubernetes objects of one kind the program registered (secrets unwrapped, as applied)."""
    out = []
    for resource in run.resources:
        obj = kubernetes_object(resource, redact=False)
        if obj is not None and obj["kind"] == kind:
            out.append(obj)
    return out


def only(run: ProgramRun, kind: str) -> dict[str, Any]:
    found = objects(run, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def config_errors(run_config: Callable[..., ProgramRun], values: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    """Run the program with an invalid config; return {key path: message} of every reported problem."""
    with pytest.raises(ConfigError) as caught:
        run_config(values, **kwargs)
    return {issue.path: issue.message for issue in caught.value.issues}
