"""The copy list of a stack for its mirror (`kserve-platform:mirror`): every image, chart and manifest the stack
deploys, source -> mirror, by the same function the program deploys them with (`config.mirror.mirror_image`).
`python -m cli mirror` (cli/mirror.py) prints it for skopeo, crane, helm or as JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from config.errors import format_path
from config.images import compose_custom_images
from config.kserve import local_chart_source
from config.mirror import (
    MirrorConfig,
    charts_of,
    custom_images_of,
    images_of,
    manifests_of,
    mirror_chart,
    mirror_url,
    parse_image,
)
from config.stack import StackConfig

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXAMPLE_REGISTRY = "registry.internal:5000/kserve-mirror"
FORMATS = ("json", "skopeo", "crane", "helm")


@dataclass(frozen=True)
class MirroredImage:
    component: str
    name: str
    source: str
    target: str
    pulled: bool


@dataclass(frozen=True)
class MirroredChart:
    name: str
    version: str
    source: str
    # https:// Helm repository the source chart name is looked up in (None: `source` is the full reference).
    repository: str | None
    # Where the stack reads it from with the mirror set (None: mirror.charts is not set, the source is used).
    target: str | None


@dataclass(frozen=True)
class MirroredManifest:
    source: str
    target: str | None


@dataclass
class MirrorPlan:
    registry: str
    charts_mirror: str | None
    manifests_mirror: str | None
    images: list[MirroredImage] = field(default_factory=list)
    charts: list[MirroredChart] = field(default_factory=list)
    manifests: list[MirroredManifest] = field(default_factory=list)

    @property
    def pulled_images(self) -> list[MirroredImage]:
        """Distinct images the stack pulls (several components may run one image)."""
        seen: dict[str, MirroredImage] = {}
        for image in self.images:
            if image.pulled:
                seen.setdefault(image.source, image)
        return list(seen.values())


def mirror_plan(stack: StackConfig, values: dict | None = None, registry: str | None = None) -> MirrorPlan:
    """What `stack` pulls and where its mirror holds each thing. `values`: the raw stack values (the models' images
    as written, before the program moved them to the mirror); `registry` stands in for a stack without `mirror`."""
    mirror = stack.mirror or MirrorConfig(registry=registry or EXAMPLE_REGISTRY)
    plan = MirrorPlan(mirror.registry, mirror.charts, mirror.manifests)
    for image in images_of(stack.kserve):
        plan.images.append(
            MirroredImage(image.component, image.name, image.source, mirror.image(image.source), image.pulled)
        )
    if mirror.custom_images:
        deployed = {(model.namespace, model.name) for model in stack.deployed_models}
        # As the program composes them: `customImages.registry` first, then the mirror.
        raw = compose_custom_images(values or {})
        for path, image in custom_images_of(raw):
            entry = raw[path[0]][path[1]]
            pulled = path[0] == "runtimes" or (entry.get("namespace"), entry.get("name")) in deployed
            name = stack.where(format_path(path))
            plan.images.append(MirroredImage("custom", name, image, mirror.image(image), pulled))
    for chart in charts_of(stack.kserve):
        target = mirror_chart(chart.name, mirror.charts) if mirror.charts else None
        plan.charts.append(MirroredChart(chart.name, chart.version, chart.source, chart.repository, target))
    for url in manifests_of(stack.kserve):
        plan.manifests.append(MirroredManifest(url, mirror_url(url, mirror.manifests) if mirror.manifests else None))
    return plan


# --- formats -----------------------------------------------------------------------------------------------------


def as_json(plan: MirrorPlan) -> str:
    return json.dumps(asdict(plan), indent=2) + "\n"


def as_skopeo(plan: MirrorPlan) -> str:
    """`skopeo sync --src yaml --dest docker <file> <registry>`: without `--scoped`, skopeo writes each image to
    `<registry>/<path>`, which is the program's rule."""
    registries: dict[str, dict[str, list[str]]] = {}
    for image in plan.pulled_images:
        if image.source == image.target:
            continue
        reference = parse_image(image.source)
        versions = registries.setdefault(reference.host, {}).setdefault(reference.path, [])
        version = reference.digest or reference.tag
        if version and version not in versions:
            versions.append(version)
    document = {host: {"images": images} for host, images in sorted(registries.items())}
    header = f"# skopeo sync --src yaml --dest docker <this file> {plan.registry}\n"
    return header + yaml.safe_dump(document, sort_keys=True)


def as_crane(plan: MirrorPlan) -> str:
    return "".join(
        f"crane copy {image.source} {image.target}\n" for image in plan.pulled_images if image.source != image.target
    )


def _pull(chart: MirroredChart) -> str:
    if chart.repository:
        return f"helm pull {chart.source} --repo {chart.repository} --version {chart.version}"
    if chart.source.startswith("https://"):
        return f"curl -fsSLo {chart.name}-{chart.version}.tgz {chart.source}"
    return f"helm pull {chart.source} --version {chart.version}"


def as_helm(plan: MirrorPlan) -> str:
    """Charts: pull each, then push it to the oci:// chart mirror or unpack it into the local one; manifests:
    download each to the local mirror (or note where an https:// mirror serves it)."""
    lines = []
    for chart in plan.charts:
        target = plan.charts_mirror
        if target is None:
            lines.append(f"{_pull(chart)}  # mirror.charts unset: the stack reads {chart.source}")
        elif local_chart_source(target) is not None:
            lines.append(f"{_pull(chart)} && tar -xzf {chart.name}-{chart.version}.tgz -C {local_chart_source(target)}")
        else:
            lines.append(f"{_pull(chart)} && helm push {chart.name}-{chart.version}.tgz {target}")
    for manifest in plan.manifests:
        if manifest.target is None:
            lines.append(f"curl -fsSLO {manifest.source}  # mirror.manifests unset: the stack reads the source")
        elif manifest.target.startswith("https://"):
            name = manifest.source.rsplit("/", 1)[-1]
            lines.append(f"curl -fsSLO {manifest.source}  # then serve {name} at {manifest.target}")
        else:
            lines.append(f"curl -fsSL --create-dirs -o {manifest.target} {manifest.source}")
    return "".join(f"{line}\n" for line in lines)


RENDERERS = {"json": as_json, "skopeo": as_skopeo, "crane": as_crane, "helm": as_helm}
