"""Kubernetes objects and Helm charts out of a recorded program run, written the way `renderYamlToDirectory` does."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from offline.program import ProgramRun
from offline.recorder import SECRET, RegisteredResource

CRD_DIR = "0-crd"
MANIFEST_DIR = "1-manifest"
HELM_RELEASES_FILE = "helm-releases.yaml"
# Every resource the program registers, by its URN without the stack and project (`<type chain>::<name>`), with the
# object it applies and the resource options the engine acts on (protect, retainOnDelete...): what a manifest alone
# cannot show a reviewer (an option change, or one Pulumi resource now applying another object: a replacement).
RESOURCES_FILE = "resources.yaml"
# The stack outputs a user sees after `pulumi up` (`pulumi stack output`), secrets and unknowns marked.
OUTPUTS_FILE = "outputs.yaml"
HELM_TYPES = ("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart")
# Remote manifests the provider fetches and applies (listed with their URL, which carries the version).
MANIFEST_FILE_TYPES = ("kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml:ConfigFile")


def _whole_numbers(value: Any) -> Any:
    # The mocks carry every number as a float (protobuf Struct); Kubernetes fields here are integers.
    # Keys are sorted so that a render is byte-for-byte stable and diffs between renders show only changes.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def kubernetes_object(resource: RegisteredResource, redact: bool = True) -> dict[str, Any] | None:
    """The object a Kubernetes resource registration applies, or None for components, charts and providers."""
    if not resource.custom or not resource.type.startswith("kubernetes:") or resource.type in HELM_TYPES:
        return None
    inputs = resource.redacted_inputs if redact else resource.inputs
    if "apiVersion" not in inputs or "kind" not in inputs:
        return None
    obj = _whole_numbers(inputs)
    if redact and obj["kind"] == "Secret":
        # Secret payloads never leave the program in plaintext, whether or not they were marked secret. The
        # key names are not secret (pulumi-kubernetes marks the whole map secret), so a reviewer still sees them.
        plain = resource.inputs
        for key in ("data", "stringData"):
            if isinstance(plain.get(key), dict):
                obj[key] = {name: SECRET for name in sorted(plain[key])}
    ordered = {key: obj[key] for key in ("apiVersion", "kind", "metadata") if key in obj}
    ordered.update({key: value for key, value in obj.items() if key not in ordered})
    return ordered


def render_path(obj: dict[str, Any]) -> str:
    """`renderYamlToDirectory`'s file name: `<apiVersion>-<kind lower-case>-<namespace|default>-<name>.yaml`."""
    metadata = obj.get("metadata") or {}
    api_version = str(obj["apiVersion"]).replace("/", "_").replace(":", "_")
    namespace = metadata.get("namespace") or "default"
    folder = CRD_DIR if obj["kind"] == "CustomResourceDefinition" else MANIFEST_DIR
    return f"{folder}/{api_version}-{str(obj['kind']).lower()}-{namespace}-{metadata.get('name')}.yaml"


@dataclass
class Rendered:
    objects: dict[str, dict[str, Any]]  # relative path -> object
    helm_releases: list[dict[str, Any]]
    manifest_files: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # URN suffix -> object identity + options
    outputs: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> Counter:
        return Counter(obj["kind"] for obj in self.objects.values())


def helm_release(resource: RegisteredResource) -> dict[str, Any]:
    inputs = _whole_numbers(resource.redacted_inputs)
    repository = (
        inputs.get("repositoryOpts", {}).get("repo") if isinstance(inputs.get("repositoryOpts"), dict) else None
    )
    return {
        "name": inputs.get("name") or resource.name,
        "resource": resource.name,
        "type": resource.type,
        "chart": inputs.get("chart"),
        "repository": repository,
        "version": inputs.get("version"),
        "namespace": inputs.get("namespace"),
        "values": inputs.get("values") or {},
    }


def manifest_file(resource: RegisteredResource) -> dict[str, Any]:
    inputs = resource.redacted_inputs
    return {"resource": resource.name, "type": resource.type, "file": inputs.get("file")}


def resource_key(urn: str) -> str:
    """`<type chain>::<name>`: a resource's identity in the stack, the same in every render of one stack."""
    return urn.split("::", 2)[2]


def resource_options(resource: RegisteredResource) -> dict[str, Any]:
    """The options the engine acts on, as the registration set them; defaults (false, empty) left out."""
    options: dict[str, Any] = {
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "deleteBeforeReplace": resource.delete_before_replace,
        "ignoreChanges": sorted(resource.ignore_changes),
        "customTimeouts": dict(sorted(resource.custom_timeouts.items())),
        "aliases": resource.aliases,
        # Transforms run on this resource and its children (e.g. the install's retain-CRDs transform).
        "transforms": resource.transforms,
    }
    return {key: value for key, value in options.items() if value}


def resource_entry(resource: RegisteredResource) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": resource.type, "name": resource.name}
    obj = kubernetes_object(resource)
    if obj is not None:
        metadata = obj.get("metadata") or {}
        entry["object"] = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "namespace": metadata.get("namespace") or "",
            "name": metadata.get("name"),
        }
    entry["options"] = resource_options(resource)
    return entry


def render(run: ProgramRun) -> Rendered:
    objects: dict[str, dict[str, Any]] = {}
    for resource in run.resources:
        obj = kubernetes_object(resource)
        if obj is not None:
            path = render_path(obj)
            if path in objects:
                raise ValueError(f"two resources render to {path}: the program declares one object twice")
            objects[path] = obj
    releases = sorted(
        (helm_release(r) for r in run.resources if r.type in HELM_TYPES), key=lambda release: release["resource"]
    )
    files = sorted(
        (manifest_file(r) for r in run.resources if r.type in MANIFEST_FILE_TYPES), key=lambda item: item["resource"]
    )
    resources = {resource_key(r.urn): resource_entry(r) for r in sorted(run.resources, key=lambda r: r.urn)}
    return Rendered(
        objects=dict(sorted(objects.items())),
        helm_releases=releases,
        manifest_files=files,
        resources=resources,
        outputs=_whole_numbers(run.shown_outputs),
    )


def write(rendered: Rendered, out: Path) -> None:
    """Replace `out`'s render layout with this render (other files in `out` are left alone)."""
    for folder in (CRD_DIR, MANIFEST_DIR):
        shutil.rmtree(out / folder, ignore_errors=True)
        (out / folder).mkdir(parents=True)
    for path, obj in rendered.objects.items():
        (out / path).write_text(_dump(obj), encoding="utf-8")
    (out / HELM_RELEASES_FILE).write_text(
        _dump({"releases": rendered.helm_releases, "manifests": rendered.manifest_files}), encoding="utf-8"
    )
    (out / RESOURCES_FILE).write_text(_dump({"resources": rendered.resources}), encoding="utf-8")
    (out / OUTPUTS_FILE).write_text(_dump(rendered.outputs), encoding="utf-8")


# libyaml's emitter where PyYAML was built with it (same YAML, several times faster), else the Python one.
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_SafeDumper, sort_keys=False)
