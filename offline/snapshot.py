"""Change safety: the identities of every resource a stack declares, committed as a snapshot, so that a change
which would rename, replace or drop a live object fails a test instead of surprising `pulumi up`.

    python -m cli snapshot --update [--stack STACK ...]   # accept the current identities (review the diff!)

An identity is the resource's URN (Pulumi's name for it: a new URN means delete + create) and, for Kubernetes
objects, the fields whose change makes the provider replace the object (apiVersion group, kind, namespace, name),
plus KServe's immutable deployment-mode annotation on InferenceServices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from offline import stackconfig
from offline.program import PROJECT_DIR, ProgramRun, run_program
from offline.stackfile import read_stack_settings

SNAPSHOT_DIR = PROJECT_DIR / "tests" / "snapshots"
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"


def identity(resource: Any) -> dict[str, Any]:
    inputs = resource.inputs
    if not resource.custom or "kind" not in inputs:
        return {"type": resource.type}
    metadata = inputs.get("metadata") or {}
    out = {
        "group": str(inputs.get("apiVersion", "")).rpartition("/")[0],
        "kind": inputs["kind"],
        "namespace": metadata.get("namespace"),
        "name": metadata.get("name"),
    }
    if inputs["kind"] == "InferenceService":
        out["deploymentMode"] = (metadata.get("annotations") or {}).get(DEPLOYMENT_MODE)
    return out


def snapshot(run: ProgramRun) -> dict[str, dict[str, Any]]:
    return {resource.urn: identity(resource) for resource in sorted(run.resources, key=lambda r: r.urn)}


def _urn_name(urn: str) -> tuple[str, str]:
    """(type of the resource itself, name) from a URN."""
    _, _, type_chain, name = urn.split("::", 3)
    return type_chain.split("$")[-1], name


def _aliased(dropped: str, run: ProgramRun) -> str | None:
    """The URN of a current resource that declares `dropped` as an alias (a deliberate rename), if any."""
    dropped_type, dropped_name = _urn_name(dropped)
    for resource in run.resources:
        for alias in resource.aliases:
            if alias.get("urn") == dropped:
                return resource.urn
            if alias.get("name", resource.name) == dropped_name and alias.get("type", resource.type) == dropped_type:
                return resource.urn
    return None


def unsafe_changes(committed: dict[str, dict[str, Any]], run: ProgramRun) -> list[str]:
    """What `pulumi up` would delete or replace compared with the committed snapshot, in plain words."""
    current = snapshot(run)
    problems = []
    for urn, old in committed.items():
        new = current.get(urn)
        if new is None:
            if _aliased(urn, run) is None:
                problems.append(f"DROPPED {urn} ({_describe(old)}): `pulumi up` would delete it")
        elif new != old:
            fields = sorted(key for key in {*old, *new} if old.get(key) != new.get(key))
            changes = ", ".join(f"{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in fields)
            problems.append(f"REPLACED {urn}: {changes}: `pulumi up` would delete and recreate it")
    return problems


def _describe(ident: dict[str, Any]) -> str:
    if "kind" in ident:
        where = f"{ident['namespace']}/" if ident.get("namespace") else ""
        return f"{ident['kind']} {where}{ident['name']}"
    return ident["type"]


def snapshot_path(stack: str) -> Path:
    return SNAPSHOT_DIR / f"{stack}.json"


def run_stack(stack: str) -> ProgramRun:
    return run_program(read_stack_settings(PROJECT_DIR / "Pulumi.yaml", PROJECT_DIR / f"Pulumi.{stack}.yaml"), stack)


def committed_stacks() -> list[str]:
    return stackconfig.committed_stacks(PROJECT_DIR)
