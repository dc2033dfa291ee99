"""`kserve-platform:mirror`: with it set, nothing the stack deploys names an image, chart or manifest outside the
mirror, in the program's objects and in the charts' rendered children (KServe's inferenceservice-config included);
the listing (`python -m cli mirror`) names exactly what the stack pulls.

The Knative operator chart is not in ../shared, so it is the one chart not rendered: for it the test asserts the
values the program passes (its two images) and the chart reference; Knative Serving's own images are set by the
KnativeServing's `spec.registry`, asserted on the object the program declares.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import STACKS, settings_for, stack_settings
from policy_harness import engine_registrations, evaluate, policy_config, require_rendering
from pulumi_policy import EnforcementLevel

from cli import mirror as mirror_command
from config.mirror import (
    KNATIVE_OPERATOR_CHART,
    charts_of,
    images_of,
    mirror_image,
    parse_image,
)
from config.stack import PROJECT, parse_stack_config
from offline import charts
from offline import mirror as listing
from offline.program import ProgramRun, run_program
from offline.stackconfig import config_values, typed_config
from offline.stackfile import StackSettings

REGISTRY = "registry.internal:5000/kserve-mirror"
CHARTS = "oci://registry.internal:5000/charts"
MANIFESTS = "https://files.internal/kserve"
MIRROR = {"registry": REGISTRY, "charts": CHARTS, "manifests": MANIFESTS, "customImages": True}
KNATIVE = {"deploymentMode": "Knative"}
# Each committed stack (all Standard mode) with the mirror written into a copy of its config, and in Knative mode
# the stacks whose models are valid there (staging's and prod's HPA/canary models are Standard-only).
KNATIVE_STACKS = ("dev", "local")
SCENARIOS = [(stack, "own") for stack in STACKS] + [(stack, "Knative") for stack in KNATIVE_STACKS]
CHART_V4, RELEASE_V3 = charts.CHART_V4, charts.RELEASE_V3
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
PUBLIC_REGISTRIES = (
    "docker.io/",
    "quay.io/",
    "gcr.io/",
    "ghcr.io/",
    "nvcr.io/",
    "registry.k8s.io/",
    "mcr.microsoft.com/",
)
# An image reference with a path and a tag or digest (`kserve/agent:v0.20.0`, `quay.io/x/y@sha256:...`).
IMAGE = re.compile(
    r"^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9._-]+(?:/[a-z0-9._${}A-Z-]+)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@sha256:[0-9a-f]{64})?$"
)
IMAGE_KEY = re.compile(r"(?i)(image|^hub|^default)$")
IMAGE_ARG = re.compile(r"^--[a-z0-9-]*image=(.+)$")


def with_mirror(stack: str, mode: str, mirror: dict[str, Any] = MIRROR) -> StackSettings:
    settings = stack_settings(stack)
    config = dict(settings.config)
    config[f"{PROJECT}:mirror"] = json.dumps(mirror)
    if mode == "Knative":
        kserve = json.loads(config.get(f"{PROJECT}:kserve", "{}"))
        kserve = {key: value for key, value in kserve.items() if key != "ingress"}
        kserve.update(KNATIVE, ingress={"domain": "example.com"})
        config[f"{PROJECT}:kserve"] = json.dumps(kserve)
    return StackSettings(config=config, secret_keys=list(settings.secret_keys))


_RUNS: dict[tuple[str, str], ProgramRun] = {}


def scenario(stack: str, mode: str) -> ProgramRun:
    if (stack, mode) not in _RUNS:
        _RUNS[(stack, mode)] = run_program(with_mirror(stack, mode), stack)
    return _RUNS[(stack, mode)]


def strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in an object, and in JSON or YAML documents held in strings (ConfigMap data), with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, (*path, str(index)))
    elif isinstance(value, str):
        yield path, value
        if "\n" in value or value.lstrip().startswith(("{", "[")):
            try:
                inner = yaml.safe_load(value)
            except yaml.YAMLError:
                return
            if isinstance(inner, dict | list):
                yield from strings(inner, (*path, "<document>"))


def image_references(obj: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    """Strings that name an image: under a key naming one (`image`, `defaultJobImage`, Istio's `hub`), an
    `--...-image=` argument, or any string shaped as `repository:tag` / `@digest` under such a key's parent."""
    for path, value in strings(obj):
        key = path[-1] if path else ""
        argument = IMAGE_ARG.match(value)
        if argument:
            yield path, argument.group(1)
        elif _names_image(key, value):
            yield path, value


def _names_image(key: str, value: str) -> bool:
    if "://" in value or " " in value or value.startswith("/"):
        return False
    if IMAGE_KEY.search(key) and "/" in value:
        return True
    return bool(IMAGE.match(value)) and (":" in value.rsplit("/", 1)[-1] or "@" in value)


def outside_mirror(obj: Any, registry: str = REGISTRY) -> list[str]:
    found = [f"{'.'.join(path)}={value}" for path, value in image_references(obj) if not value.startswith(registry)]
    # Whatever the shape: no string names a public registry (CRD schemas' prose is not a reference).
    for path, value in strings(obj):
        if "description" in path:
            continue
        if any(host in value for host in PUBLIC_REGISTRIES) and not value.startswith(registry):
            found.append(f"{'.'.join(path)}={value[:200]}")
    return sorted(set(found))


def rendered(run: ProgramRun) -> Iterator[tuple[charts.ChartInstall, dict[str, Any]]]:
    for install in charts.chart_installs(run.resources):
        # The one chart ../shared does not hold (by name in a mirror, by its release asset's file name upstream).
        if install.name in (KNATIVE_OPERATOR_CHART, f"{KNATIVE_OPERATOR_CHART}-{install.version}.tgz"):
            continue
        for obj in charts.render_install(install).all():
            yield install, obj


# --- the mapping rule --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("docker.io/seldonio/mlserver:1.7.1", f"{REGISTRY}/seldonio/mlserver:1.7.1"),
        ("kserve/agent:v0.20.0", f"{REGISTRY}/kserve/agent:v0.20.0"),
        ("nginx:1.27", f"{REGISTRY}/library/nginx:1.27"),
        ("quay.io/jetstack/cert-manager-controller:v1.17.0", f"{REGISTRY}/jetstack/cert-manager-controller:v1.17.0"),
        ("localhost:5001/team/server:0.1.0", f"{REGISTRY}/team/server:0.1.0"),
        ("ghcr.io/acme/server@sha256:" + "a" * 64, f"{REGISTRY}/acme/server@sha256:" + "a" * 64),
        ("gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.21.1",
         f"{REGISTRY}/knative-releases/knative.dev/serving/cmd/queue:v1.21.1"),
        (f"{REGISTRY}/seldonio/mlserver:1.7.1", f"{REGISTRY}/seldonio/mlserver:1.7.1"),
    ],
)  # fmt: skip
def test_mirror_keeps_the_path_and_drops_the_source_host(source: str, target: str) -> None:
    assert mirror_image(source, REGISTRY) == target


# --- the program's objects and the rendered charts ---------------------------------------------------------------


@pytest.mark.parametrize(("stack", "mode"), SCENARIOS, ids=[f"{s}-{m}" for s, m in SCENARIOS])
def test_no_reference_outside_the_mirror_remains(stack: str, mode: str) -> None:
    """Every chart, manifest and image reference the stack deploys, in the declared objects and in every rendered
    chart child (hooks included), is in the mirror."""
    require_rendering()
    run = scenario(stack, mode)
    problems: list[str] = []
    for resource in run.resources:
        if resource.type in (CHART_V4, RELEASE_V3):
            if not str(resource.inputs["chart"]).startswith(f"{CHARTS}/"):
                problems.append(f"{resource.name}: chart {resource.inputs['chart']}")
            if resource.inputs.get("repositoryOpts"):
                problems.append(f"{resource.name}: chart repository {resource.inputs['repositoryOpts']}")
            problems += [f"{resource.name} values: {p}" for p in outside_mirror(resource.inputs.get("values") or {})]
        elif resource.type == CONFIG_FILE:
            if not str(resource.inputs["file"]).startswith(f"{MANIFESTS}/"):
                problems.append(f"{resource.name}: manifest {resource.inputs['file']}")
        else:
            problems += [f"{resource.type} {resource.name}: {p}" for p in outside_mirror(resource.inputs)]
    children = 0
    for install, obj in rendered(run):
        children += 1
        if obj["kind"] == "CustomResourceDefinition":
            continue
        where = f"{install.resource_name} {obj['kind']} {obj['metadata'].get('name')}"
        problems += [f"{where}: {p}" for p in outside_mirror(obj)]
    assert children > 0
    assert not problems, "\n".join(problems)


def mappings(value: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in an object, and in JSON or YAML documents held in its strings."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from mappings(item)
    elif isinstance(value, list):
        for item in value:
            yield from mappings(item)
    elif isinstance(value, str) and ("\n" in value or value.lstrip().startswith("{")):
        try:
            yield from mappings(yaml.safe_load(value))
        except yaml.YAMLError:
            return


def istio_images(obj: Any) -> set[str]:
    """Istio names images as `<global.hub>/<name>:<global.tag>` (the proxy istiod injects into the gateway)."""
    out = set()
    for mapping in mappings(obj):
        if isinstance(mapping.get("hub"), str) and isinstance(mapping.get("tag"), str) and mapping["hub"]:
            proxy = (mapping.get("proxy") or {}).get("image")
            if proxy:
                out.add(f"{mapping['hub']}/{proxy}:{mapping['tag']}")
    return out


def rendered_images(run: ProgramRun) -> set[str]:
    images = {
        value
        for _, obj in rendered(run)
        if obj["kind"] != "CustomResourceDefinition"
        for _, value in image_references(obj)
    }
    images |= {image for _, obj in rendered(run) for image in istio_images(obj)}
    for resource in run.resources:
        if resource.type not in (CHART_V4, RELEASE_V3, CONFIG_FILE):
            images |= {value for _, value in image_references(resource.inputs)}
    return images


@pytest.mark.parametrize(("stack", "mode"), SCENARIOS, ids=[f"{s}-{m}" for s, m in SCENARIOS])
def test_the_listing_names_every_image_the_stack_deploys(stack: str, mode: str) -> None:
    """The listing's targets cover every full image reference in the rendered objects (Istio's `hub` and the ART
    explainer's tag-less repository are matched by repository), and the listing names nothing the stack does not
    deploy."""
    require_rendering()
    run = scenario(stack, mode)
    settings = with_mirror(stack, mode)
    plan = listing.mirror_plan(typed_config(settings), config_values(settings))
    targets = {image.target for image in plan.images}
    repositories = {parse_image(target).repository for target in targets}
    deployed = rendered_images(run)
    knative_template = {value for value in deployed if "${NAME}" in value}
    missing = {
        value
        for value in deployed - knative_template
        if value not in targets
        and value not in repositories
        and not any(r.startswith(f"{value}/") for r in repositories)
    }
    assert not missing, sorted(missing)
    # The Knative operator's images are chart values of the one chart not rendered here.
    operator = {image.target for image in plan.images if image.component == "knative"}
    pulled = {image.target for image in plan.images if image.pulled}
    unrendered = {target for target in pulled - deployed if target not in operator}
    unrendered = {
        t for t in unrendered if parse_image(t).repository not in {parse_image(d).repository for d in deployed}
    }
    assert not unrendered, sorted(unrendered)


def test_knative_operator_and_serving_images_are_set_to_the_mirror() -> None:
    """What cannot be rendered (the operator chart is not in ../shared): the values that name its images, and the
    KnativeServing's registry override that names every Serving container's image."""
    run = scenario("dev", "Knative")
    operator = [r for r in run.by_type(CHART_V4) if charts.chart_name(str(r.inputs["chart"])) == KNATIVE_OPERATOR_CHART]
    assert len(operator) == 1
    assert operator[0].inputs["chart"] == f"{CHARTS}/{KNATIVE_OPERATOR_CHART}"
    values = operator[0].inputs["values"]["knative_operator"]
    for part, path in (("knative_operator", "operator"), ("operator_webhook", "webhook")):
        assert values[part] == {
            "image": f"{REGISTRY}/knative-releases/knative.dev/operator/cmd/{path}",
            "tag": "v1.21.1",
        }
    serving = run.by_type("kubernetes:operator.knative.dev/v1beta1:KnativeServing")[0].inputs["spec"]["registry"]
    assert serving["default"] == f"{REGISTRY}/knative-releases/knative.dev/serving/cmd/${{NAME}}:v1.21.1"
    assert serving["override"]["queue-proxy"] == f"{REGISTRY}/knative-releases/knative.dev/serving/cmd/queue:v1.21.1"
    assert all(image.startswith(f"{REGISTRY}/") for image in serving["override"].values())


def test_without_a_mirror_the_catalogue_names_every_image_the_charts_render() -> None:
    """The catalogue the program and the listing share is complete: rendered with their default images, the
    charts name no image it lacks (so a chart upgrade that adds one fails here, not in an air-gapped cluster)."""
    require_rendering()
    for values in ({}, {"kserve": KNATIVE}):
        run = run_program(settings_for(values), "test")
        sources = {str(parse_image(image.source)) for image in images_of(parse_stack_config(values).kserve)}
        repositories = {parse_image(source).repository for source in sources}
        rendered_values = {v for _, obj in rendered(run) if obj["kind"] != "CustomResourceDefinition"
                           for _, v in image_references(obj)}  # fmt: skip
        rendered_values |= {image for _, obj in rendered(run) for image in istio_images(obj)}
        assert rendered_values
        for value in rendered_values:
            reference = parse_image(value)
            # A full reference, a tag-less repository (the ART explainer) or a hub (Istio's `docker.io/istio`).
            assert (
                str(reference) in sources
                or reference.repository in repositories
                or any(source.startswith(f"{value}/") for source in sources)
            ), value


def test_custom_images_move_only_when_opted_in() -> None:
    run = scenario("staging", "own")
    images = [
        r.inputs["spec"]["predictor"] for r in run.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    ]
    custom = [c["image"] for p in images for c in p.get("containers", [])]
    assert custom == [f"{REGISTRY}/library/my-custom-server:0.1.0"]
    settings = with_mirror("staging", "own", {"registry": REGISTRY})
    stack = typed_config(settings)
    assert [m.image for m in stack.models if m.image] == ["my-custom-server:0.1.0"]


def test_local_chart_mirror_is_read_from_disk(tmp_path: Path) -> None:
    """mirror.charts as a local directory: each chart must be there at its pinned version; the program reads them
    from it (rendered here from the same directory)."""
    require_rendering()
    values = {"mirror": {"registry": REGISTRY, "charts": str(tmp_path)}}
    with pytest.raises(Exception, match=r"mirror\.charts.*no Chart\.yaml"):
        parse_stack_config(values)
    for chart in charts_of(parse_stack_config({}).kserve):
        (tmp_path / chart.name).symlink_to(charts.local_chart(chart.name, chart.version))
    run = run_program(settings_for(values), "test")
    installs = charts.chart_installs(run.resources)
    # (Resolved: the charts here are symlinks into ../shared, which a chart path given alone resolves.)
    assert installs and all(Path(i.chart).resolve() == (tmp_path / i.name).resolve() for i in installs)
    assert all(not outside_mirror(obj) for _, obj in rendered(run) if obj["kind"] != "CustomResourceDefinition")


# --- the listing's formats ---------------------------------------------------------------------------------------


def listing_output(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert mirror_command.main(["--stack", "prod", *args]) == 0
    return capsys.readouterr().out


def test_listing_formats_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """skopeo's YAML, crane's lines and the JSON name the same pulled images; helm pulls every chart."""
    plan = json.loads(listing_output(capsys, "--format", "json"))
    pulled = {(i["source"], i["target"]) for i in plan["images"] if i["pulled"]}
    crane = {tuple(line.split()[2:]) for line in listing_output(capsys, "--format", "crane").splitlines()}
    assert crane == pulled
    skopeo = yaml.safe_load(listing_output(capsys, "--format", "skopeo"))
    synced = {
        (f"{host}/{path}:{tag}", f"{plan['registry']}/{path}:{tag}")
        for host, spec in skopeo.items()
        for path, tags in spec["images"].items()
        for tag in tags
    }
    assert synced == pulled
    helm = listing_output(capsys, "--format", "helm").splitlines()
    assert len([line for line in helm if line.startswith("helm pull")]) == len(plan["charts"]) == 6
    assert any("standard-install.yaml" in line for line in helm)


def test_listing_of_a_mirrored_stack_pushes_to_its_chart_mirror(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Knative stack with mirror.charts: each chart is pulled and pushed to the chart mirror (the operator chart,
    a release asset, is downloaded first)."""
    document = yaml.safe_load((Path(__file__).resolve().parent.parent / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    document["config"][f"{PROJECT}:mirror"] = MIRROR
    document["config"][f"{PROJECT}:kserve"] = KNATIVE
    stack_file = tmp_path / "Pulumi.mirrored.yaml"
    stack_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert mirror_command.main(["--stack", "mirrored", "--config-file", str(stack_file), "--format", "helm"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8  # cert-manager, Istio's three, the Knative operator, KServe's three; no manifest
    assert all(line.endswith(f".tgz {CHARTS}") and " && helm push " in line for line in lines)
    operator = next(line for line in lines if "knative-operator" in line)
    assert operator.startswith("curl -fsSLo knative-operator-v1.21.1.tgz https://github.com/knative/operator/")


def test_local_manifest_mirror_is_applied_from_disk(tmp_path: Path) -> None:
    """mirror.manifests as a local directory: the Gateway API release manifest must be at the listed path (refused
    naming mirror.manifests until it is), and the program applies that file."""
    values = {"mirror": {"registry": REGISTRY, "manifests": str(tmp_path)}}
    with pytest.raises(Exception, match=r"mirror\.manifests: has no .*standard-install\.yaml"):
        parse_stack_config(values)
    plan = listing.mirror_plan(parse_stack_config({**values, "mirror": {"registry": REGISTRY}}))
    target = Path(listing.mirror_url(plan.manifests[0].source, str(tmp_path)))
    target.parent.mkdir(parents=True)
    target.write_text("# the release manifest\n", encoding="utf-8")
    run = run_program(settings_for(values), "test")
    assert [r.inputs["file"] for r in run.by_type(CONFIG_FILE)] == [str(target)]


def test_custom_images_compose_with_the_registry_then_the_mirror() -> None:
    """`customImages.registry` composes a registry-less name first, then the mirror moves it (keeping the path);
    the listing copies it from where the team pushed it."""
    values = {
        "customImages": {"registry": "ghcr.io/acme"},
        "mirror": {"registry": REGISTRY, "customImages": True},
        "models": [{"name": "custom", "namespace": "models", "image": "my-server:0.1.0", "env": {"PROTOCOL": "v2"}}],
    }
    stack = parse_stack_config(values)
    assert stack.models[0].image == f"{REGISTRY}/acme/my-server:0.1.0"
    custom = [image for image in listing.mirror_plan(stack, values).images if image.component == "custom"]
    assert [(image.source, image.target, image.pulled) for image in custom] == [
        ("ghcr.io/acme/my-server:0.1.0", f"{REGISTRY}/acme/my-server:0.1.0", True)
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_the_policy_pack_passes_a_mirrored_stack(stack: str) -> None:
    """Mirrored references keep their tags and digests, so every committed stack with the mirror set still has no
    mandatory violation, chart children included."""
    require_rendering()
    run = scenario(stack, "own")
    violations = evaluate(run, policy_config(stack), engine_registrations(run, frozenset({KNATIVE_OPERATOR_CHART})))
    assert [v for v in violations if v.level == EnforcementLevel.MANDATORY] == []
