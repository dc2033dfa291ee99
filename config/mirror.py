"""`mirror`: one setting that moves every image, chart and remote manifest the stack deploys to a mirror.

    kserve-platform:mirror:
      registry: registry.internal:5000/kserve-mirror   # images
      charts: oci://registry.internal:5000/charts      # or a local directory of unpacked charts
      manifests: https://files.internal/kserve         # or a local directory (the Gateway API release manifest)
      customImages: true                               # also the models' and custom runtimes' own images

The mapping rule, for images and manifests alike, is `mirror_image` / `mirror_url`: keep the path, drop the
source host (`docker.io/seldonio/mlserver:1.7.1` -> `<registry>/seldonio/mlserver:1.7.1`; Docker Hub's short
names are spelled out first, `kserve/agent` -> `<registry>/kserve/agent`, `nginx` -> `<registry>/library/nginx`).
It is what `skopeo sync --src yaml` does without `--scoped`, so the listing (`offline/mirror.py`) and the program
cannot disagree: both call the functions here. Charts keep their name: `<charts>/<chart name>`.

The per-chart keys (`kserve.chartRepository` and the like) and `mirror.charts` are refused together (likewise
`kserve.ingress.gatewayApi.crdsManifest` and `mirror.manifests`): one setting moves every chart, so a stack never
mixes a mirror with an upstream source it forgot.

`images_of(kserve)` is the catalogue of every image reference the install's charts render, from the pinned
versions; the program sets each one through chart values (components/install), the listing prints the same list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationError

from config.base import StrictModel
from config.images import RegistryPrefix
from config.kserve import (
    ISTIO_CHARTS,
    KSERVE_CHARTS,
    PROJECT_DIR,
    ChartSource,
    KServeConfig,
    chart_location,
    local_chart_problem,
    local_chart_source,
)
from config.kubernetes import check_token

Issue = tuple[tuple[str | int, ...], str]

DOCKER_HUB = "docker.io"
# Chart defaults the program does not otherwise pin (KServe v0.20.0's kserve-resources `rbacProxyImage`, Envoy
# Gateway v1.8.1's gateway-helm `_helpers.tpl` fallbacks); tests/test_mirror.py compares them with the charts.
KUBE_RBAC_PROXY_IMAGE = "quay.io/brancz/kube-rbac-proxy:v0.18.0"
ENVOY_PROXY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.38.1"
ENVOY_RATELIMIT_IMAGE = "docker.io/envoyproxy/ratelimit:ff287602"
KNATIVE_RELEASES = "gcr.io/knative-releases/knative.dev"
KNATIVE_OPERATOR_CHART = "knative-operator"
ENVOY_GATEWAY_CHARTS = ("gateway-helm", "gateway-crds-helm")

# kserve-runtime-configs: each built-in runtime's image repository and its tag (None: the chart's `kserve.version`).
# `huggingfaceserver_multinode` has no keys of its own: the chart renders `huggingfaceserver`'s image, `<tag>-gpu`.
BUILTIN_RUNTIME_IMAGES: dict[str, tuple[str, str | None]] = {
    "tensorflow": ("docker.io/tensorflow/serving", "2.6.2"),
    "sklearnserver": ("docker.io/kserve/sklearnserver", None),
    "xgbserver": ("docker.io/kserve/xgbserver", None),
    "huggingfaceserver": ("docker.io/kserve/huggingfaceserver", None),
    "tritonserver": ("nvcr.io/nvidia/tritonserver", "23.05-py3"),
    "pmmlserver": ("docker.io/kserve/pmmlserver", None),
    "predictiveserver": ("docker.io/kserve/predictiveserver", None),
    "paddleserver": ("docker.io/kserve/paddleserver", None),
    "lgbserver": ("docker.io/kserve/lgbserver", None),
    "autogluonserver": ("docker.io/kserve/autogluonserver", None),
    "torchserve": ("docker.io/pytorch/torchserve-kfs", "0.9.0"),
    # The chart pins a moving tag; a stack with a mirror refuses to enable this runtime (see mirror_issues).
    "vllmserver": ("docker.io/vllm/vllm-openai", "latest"),
}  # fmt: skip

# Knative Serving's containers as the operator's `spec.registry.override` names them (`<deployment>/<container>`
# where a container name alone is ambiguous), and the image each runs in a Knative release.
KNATIVE_SERVING_IMAGES: dict[str, str] = {
    "activator": "serving/cmd/activator",
    "autoscaler": "serving/cmd/autoscaler",
    "autoscaler-hpa": "serving/cmd/autoscaler-hpa",
    "controller": "serving/cmd/controller",
    "webhook": "serving/cmd/webhook",
    "queue-proxy": "serving/cmd/queue",
    "net-istio-controller/controller": "net-istio/cmd/controller",
    "net-istio-webhook/webhook": "net-istio/cmd/webhook",
    "storage-version-migration-serving/migrate": "pkg/apiextensions/storageversion/cmd/migrate",
}


# --- the mapping rule ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageReference:
    host: str
    path: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        return f"{self.host}/{self.path}"

    @property
    def version(self) -> str:
        """`:tag`, `@digest` or both, as written after the repository."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return f"{self.repository}{self.version}"


def parse_image(image: str) -> ImageReference:
    """An image reference with Docker's defaults spelled out (distribution/reference: the first component names a
    registry when it has a '.' or ':' or is `localhost`; Docker Hub's one-component names live in `library/`)."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    name, colon, tag = rest.rpartition(":") if rest.rfind(":") > slash else (rest, "", "")
    first, sep, remainder = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, path = first, remainder
    else:
        host, path = DOCKER_HUB, name
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return ImageReference(host=host, path=path, tag=tag if colon else None, digest=digest or None)


def in_mirror(image: str, registry: str) -> bool:
    return image.startswith(f"{registry}/")


def mirror_image(image: str, registry: str) -> str:
    """Where the mirror holds `image`: `<registry>/<path>[:tag][@digest]` (a reference already in it is kept)."""
    if in_mirror(image, registry):
        return image
    reference = parse_image(image)
    return f"{registry}/{reference.path}{reference.version}"


def mirror_url(url: str, prefix: str) -> str:
    """Where a mirror of remote files holds `url`: the same rule as images (`<prefix>/<path>`), for an https:// URL
    prefix or a local directory."""
    path = urlsplit(url).path.lstrip("/")
    if prefix.startswith("https://"):
        return f"{prefix.rstrip('/')}/{path}"
    return str((PROJECT_DIR / prefix / path).resolve())


def mirror_chart(chart: str, charts: str) -> str:
    """A chart source for one chart named `chart` in a chart mirror (oci:// path or local directory)."""
    local = local_chart_source(charts)
    return str(local / chart) if local else f"{charts.rstrip('/')}/{chart}"


def pinned(image: str) -> bool:
    reference = parse_image(image)
    return reference.digest is not None or (reference.tag is not None and reference.tag != "latest")


# --- the setting -------------------------------------------------------------------------------------------------


def _check_chart_mirror(value: str) -> str:
    if value.startswith("https://"):
        raise ValueError(
            f"{value!r}: a chart mirror is an oci:// registry path (charts pushed with `helm push`) or a local "
            "directory of unpacked charts; an https:// Helm repository cannot hold every chart of the stack under "
            "one prefix"
        )
    return value


def _check_manifest_mirror(value: str) -> str:
    if "://" in value and not value.startswith("https://"):
        raise ValueError(f"{value!r} must be an https:// URL prefix or a local directory")
    if not value.strip():
        raise ValueError("must name an https:// URL prefix or a local directory")
    # A URL or a path is one token: a stray space or newline would become part of every manifest's address.
    check_token(value)
    return value.rstrip("/") if value.startswith("https://") else value


class MirrorConfig(StrictModel):
    """A private registry (and chart and file mirrors) that everything the stack deploys is pulled from."""

    registry: RegistryPrefix = Field(
        description=(
            "Registry host and path every image is copied to and pulled from (no scheme), e.g. "
            "`registry.internal:5000/kserve-mirror`; an image keeps its path and drops its source "
            "host."
        )
    )
    charts: Annotated[ChartSource, AfterValidator(_check_chart_mirror)] | None = Field(
        None,
        description=(
            "oci:// registry path the charts are pushed to, or a local directory of unpacked charts "
            "(relative to the project directory). Unset: charts come from their upstream sources or "
            "the per-chart keys."
        ),
    )
    manifests: Annotated[str, AfterValidator(_check_manifest_mirror)] | None = Field(
        None,
        description=(
            "https:// URL prefix or local directory holding the remote manifests (the Gateway API release manifest)."
        ),
    )
    custom_images: bool = Field(
        False,
        description=(
            "Also pull the models' and custom runtimes' own images from the mirror (opt-in: a team "
            "often pushes those to the mirror itself)."
        ),
    )

    def image(self, source: str) -> str:
        return mirror_image(source, self.registry)

    def apply_to(self, kserve: KServeConfig) -> KServeConfig:
        """The install config with every chart and manifest source moved to the mirror (images go through chart
        values: see `images_of` and components/install)."""
        update: dict[str, Any] = {}
        if self.charts is not None:
            charts = self.charts
            cert_manager = kserve.cert_manager.model_copy(update={"chart_repository": charts})
            istio = kserve.knative.istio.model_copy(update={"chart_repository": charts})
            knative = kserve.knative.model_copy(
                update={"istio": istio, "operator_chart": mirror_chart(KNATIVE_OPERATOR_CHART, charts)}
            )
            envoy = kserve.ingress.gateway_api.envoy_gateway.model_copy(
                update={
                    "chart": mirror_chart(ENVOY_GATEWAY_CHARTS[0], charts),
                    "crds_chart": mirror_chart(ENVOY_GATEWAY_CHARTS[1], charts),
                }
            )
            gateway_api = kserve.ingress.gateway_api.model_copy(update={"envoy_gateway": envoy})
            update.update(chart_repository=charts, cert_manager=cert_manager, knative=knative)
            update["ingress"] = kserve.ingress.model_copy(update={"gateway_api": gateway_api})
        if self.manifests is not None:
            ingress = update.get("ingress", kserve.ingress)
            gateway_api = ingress.gateway_api.model_copy(
                update={"crds_manifest": mirror_url(ingress.gateway_api.upstream_crds_url, self.manifests)}
            )
            update["ingress"] = ingress.model_copy(update={"gateway_api": gateway_api})
        return kserve.model_copy(update=update)


# --- what the stack deploys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """One image reference the install renders."""

    component: str
    name: str
    source: str
    # False: only referenced (a disabled runtime, the ART explainer no model uses, Envoy's rate limiter that is not
    # configured); rewritten to the mirror all the same, but not worth copying.
    pulled: bool = True


def images_of(kserve: KServeConfig) -> list[Image]:
    """Every image reference the install renders, from the stack's pinned versions (none with `install: false`)."""
    if not kserve.install:
        return []
    version = kserve.version
    out = [
        Image("kserve", "controller", f"docker.io/kserve/kserve-controller:{version}"),
        Image("kserve", "kube-rbac-proxy", KUBE_RBAC_PROXY_IMAGE),
        Image("kserve", "agent", f"docker.io/kserve/agent:{version}"),
        Image("kserve", "router", f"docker.io/kserve/router:{version}"),
        Image("kserve", "storage-initializer", f"docker.io/kserve/storage-initializer:{version}"),
        Image("kserve", "art-explainer", f"docker.io/kserve/art-explainer:{version}", pulled=False),
    ]
    enabled = set(kserve.builtin_runtimes)
    out.append(Image("runtimes", "mlserver", kserve.mlserver_image))
    for runtime, (repository, tag) in BUILTIN_RUNTIME_IMAGES.items():
        out.append(Image("runtimes", runtime, f"{repository}:{tag or version}", pulled=runtime in enabled))
    out.append(
        Image(
            "runtimes",
            "huggingfaceserver_multinode",
            f"{BUILTIN_RUNTIME_IMAGES['huggingfaceserver'][0]}:{version}-gpu",
            pulled="huggingfaceserver_multinode" in enabled,
        )
    )
    if kserve.cert_manager.install:
        cert_manager = kserve.cert_manager.version
        for part in ("controller", "webhook", "cainjector", "acmesolver", "startupapicheck"):
            out.append(Image("cert-manager", part, f"quay.io/jetstack/cert-manager-{part}:{cert_manager}"))
    if kserve.deployment_mode == "Knative":
        istio = kserve.knative.istio.version
        out += [
            Image("istio", "pilot", f"docker.io/istio/pilot:{istio}"),
            Image("istio", "proxyv2", f"docker.io/istio/proxyv2:{istio}"),
        ]
        operator = kserve.knative.operator_version
        out += [
            Image("knative", "operator", f"{KNATIVE_RELEASES}/operator/cmd/operator:{operator}"),
            Image("knative", "operator-webhook", f"{KNATIVE_RELEASES}/operator/cmd/webhook:{operator}"),
        ]
        serving = f"v{kserve.knative.serving_version.lstrip('v')}"
        for container, path in KNATIVE_SERVING_IMAGES.items():
            out.append(Image("knative-serving", container, f"{KNATIVE_RELEASES}/{path}:{serving}"))
    elif kserve.uses_gateway_api and kserve.ingress.gateway_api.envoy_gateway.install:
        envoy = kserve.ingress.gateway_api.envoy_gateway.version
        out += [
            Image("envoy-gateway", "gateway", f"docker.io/envoyproxy/gateway:{envoy}"),
            Image("envoy-gateway", "envoy", ENVOY_PROXY_IMAGE),
            Image("envoy-gateway", "ratelimit", ENVOY_RATELIMIT_IMAGE, pulled=False),
        ]
    return out


def install_image(kserve: KServeConfig, mirror: MirrorConfig | None, component: str, name: str) -> str:
    """The reference the install deploys for one catalogued image: the mirror's, or the source when unmirrored."""
    for image in images_of(kserve):
        if (image.component, image.name) == (component, name):
            return mirror.image(image.source) if mirror else image.source
    raise KeyError(f"no image {component}/{name} in this install")


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag) of a `repository:tag` reference, as charts with separate keys take it."""
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag or "@" in image:
        raise ValueError(f"{image!r} is not '<repository>:<tag>'")
    return repository, tag


@dataclass(frozen=True)
class Chart:
    """One chart the install pulls: its name, pinned version and upstream source (as the program resolves it)."""

    name: str
    version: str
    # A chart reference helm pulls (oci://..., a chart name in `repository`, or an https:// .tgz URL).
    source: str
    repository: str | None = None


def charts_of(kserve: KServeConfig) -> list[Chart]:
    """Every chart the install deploys, from where the (unmirrored) config reads it."""
    if not kserve.install:
        return []
    out: list[Chart] = []

    def add(name: str, source: str, version: str, repository_like: bool = True) -> None:
        reference, repository = chart_location(source, name) if repository_like else chart_location(source, None)
        out.append(Chart(name, version, reference, repository))

    if kserve.cert_manager.install:
        add("cert-manager", kserve.cert_manager.chart_repository, kserve.cert_manager.version)
    if kserve.deployment_mode == "Knative":
        for name in ISTIO_CHARTS:
            add(name, kserve.knative.istio.chart_repository, kserve.knative.istio.version)
        add(KNATIVE_OPERATOR_CHART, kserve.knative.operator_chart_reference, kserve.knative.operator_version, False)
    elif kserve.uses_gateway_api and kserve.ingress.gateway_api.envoy_gateway.install:
        envoy = kserve.ingress.gateway_api.envoy_gateway
        add(ENVOY_GATEWAY_CHARTS[1], envoy.crds_chart, envoy.version, False)
        add(ENVOY_GATEWAY_CHARTS[0], envoy.chart, envoy.version, False)
    for name in KSERVE_CHARTS:
        add(name, kserve.chart_repository, kserve.version)
    return out


def manifests_of(kserve: KServeConfig) -> list[str]:
    """Remote manifests the install applies (URLs)."""
    if kserve.install and kserve.uses_gateway_api and kserve.ingress.gateway_api.install_crds:
        return [kserve.ingress.gateway_api.crds_url]
    return []


# --- the models' own images --------------------------------------------------------------------------------------


def _custom_image_entries(values: Mapping[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    models = values.get("models")
    for index, model in enumerate(models if isinstance(models, list) else []):
        if not isinstance(model, dict):
            continue
        if isinstance(model.get("image"), str):
            yield ("models", index, "image"), model["image"]
        canaries = model.get("canary")
        for position, canary in enumerate(canaries if isinstance(canaries, list) else []):
            if isinstance(canary, dict) and isinstance(canary.get("image"), str):
                yield ("models", index, "canary", position, "image"), canary["image"]
    runtimes = values.get("runtimes")
    for index, runtime in enumerate(runtimes if isinstance(runtimes, list) else []):
        if isinstance(runtime, dict) and isinstance(runtime.get("image"), str):
            yield ("runtimes", index, "image"), runtime["image"]


def valid_mirror(values: Mapping[str, Any]) -> MirrorConfig | None:
    """The stack's well-formed `mirror` setting (None when absent or malformed: validation reports it)."""
    raw = values.get("mirror")
    if raw is None:
        return None
    try:
        return MirrorConfig.model_validate(raw)
    except ValidationError:
        return None


def compose_mirrored_images(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """Raw stack values with every model, canary and custom runtime image moved to the mirror when
    `mirror.customImages` is true (after `customImages.registry` composed registry-less names), so the render, the
    policies and the cluster see one reference. Unpinned images are left as written: validation refuses them."""
    mirror = valid_mirror(values)
    if mirror is None or not mirror.custom_images:
        return values
    out: dict[str, Any] = {**values}
    for path, image in _custom_image_entries(values):
        if not pinned(image):
            continue
        node: Any = out
        for key in path[:-1]:
            copied = dict(node[key]) if isinstance(node[key], dict) else list(node[key])
            node[key] = copied
            node = copied
        node[path[-1]] = mirror.image(image)
    return out


def custom_images_of(values: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(key path, image) of every model, canary and custom runtime image, as written."""
    return list(_custom_image_entries(values))


# --- mistakes ----------------------------------------------------------------------------------------------------

_ENVOY = lambda k: k.ingress.gateway_api.envoy_gateway  # noqa: E731
_CHART_KEYS = (
    (("chartRepository",), "chart_repository", lambda k: k),
    (("certManager", "chartRepository"), "chart_repository", lambda k: k.cert_manager),
    (("knative", "istio", "chartRepository"), "chart_repository", lambda k: k.knative.istio),
    (("knative", "operatorChart"), "operator_chart", lambda k: k.knative),
    (("ingress", "gatewayApi", "envoyGateway", "chart"), "chart", _ENVOY),
    (("ingress", "gatewayApi", "envoyGateway", "crdsChart"), "crds_chart", _ENVOY),
)  # fmt: skip


def mirror_issues(mirror: MirrorConfig, kserve: KServeConfig, values: Mapping[str, Any]) -> Iterator[Issue]:
    """The setting's mistakes (paths from the stack root), each with its fix; `values` are the raw stack values."""
    if not kserve.install and not mirror.custom_images:
        yield (
            ("mirror",),
            (
                "moves nothing: with kserve.install: false the cluster's own KServe install is used as it is, and "
                "customImages is false; remove mirror, or set mirror.customImages: true to pull the models' images "
                "from it"
            ),
        )
        return
    if mirror.charts is not None:
        for path, field, owner in _CHART_KEYS:
            if field in owner(kserve).model_fields_set:
                yield (
                    ("kserve", *path),
                    (
                        "is set together with mirror.charts, which already moves every chart of the stack to "
                        f"{mirror.charts}; remove it (or remove mirror.charts to choose chart sources one by one)"
                    ),
                )
    if mirror.manifests is not None and "crds_manifest" in kserve.ingress.gateway_api.model_fields_set:
        yield (
            ("kserve", "ingress", "gatewayApi", "crdsManifest"),
            f"is set together with mirror.manifests ({mirror.manifests}); remove one of them",
        )
    if "vllmserver" in kserve.builtin_runtimes and kserve.install:
        repository, tag = BUILTIN_RUNTIME_IMAGES["vllmserver"]
        yield (
            ("kserve", "builtinRuntimes"),
            (
                f"'vllmserver' runs {repository}:{tag}, a moving tag KServe's runtime chart pins: a mirror cannot "
                "hold one reviewed copy of it; remove vllmserver from builtinRuntimes and declare a custom runtime "
                "under runtimes with a pinned vLLM image"
            ),
        )
    if mirror.charts is not None and local_chart_source(mirror.charts) is not None:
        for chart in charts_of(kserve):
            problem = local_chart_problem(mirror_chart(chart.name, mirror.charts), None, chart.version)
            if problem:
                yield ("mirror", "charts"), f"{problem} (chart {chart.name})"
    if mirror.manifests is not None and not mirror.manifests.startswith("https://"):
        for url in manifests_of(kserve):
            target = Path(mirror_url(url, mirror.manifests))
            if not target.is_file():
                yield (
                    ("mirror", "manifests"),
                    f"has no {target} (the mirror of {url}): download it there "
                    "(`python -m cli mirror --format helm` prints the command)",
                )
    # Keeping the path and dropping the host can send two sources to one repository of the mirror.
    sources: list[tuple[tuple[str | int, ...], str]] = [(("mirror", "registry"), i.source) for i in images_of(kserve)]
    if mirror.custom_images:
        sources += _custom_image_entries(values)
    targets: dict[str, str] = {}
    for path, source in sources:
        if in_mirror(source, mirror.registry):
            continue
        target = parse_image(mirror.image(source)).repository
        repository = parse_image(source).repository
        if targets.setdefault(target, repository) != repository:
            yield (
                path,
                (
                    f"{repository} and {targets[target]} would both be copied to {target} (the mirror keeps the "
                    "path and drops the host); push this image under another path, or set mirror.customImages: "
                    "false and name its mirror reference yourself"
                ),
            )
