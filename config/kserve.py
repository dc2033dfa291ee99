"""`kserve`: how KServe (and what it needs) is installed in the stack's cluster, and the versions it runs.

Every version, chart and image the program deploys has its one home here as a default, overridable per stack.
Defaults follow what KServe v0.20.0's own installers pin (`hack/setup`, `kserve-deps.env`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from config.base import StrictModel
from config.kubernetes import DnsLabel, DnsSubdomain, DomainPrefixedPath, Token, check_token

KSERVE_VERSION = "v0.20.0"
KSERVE_CHART_REPOSITORY = "oci://ghcr.io/kserve/charts"
# KServe's kserve-mlserver runtime ships `mlserver:replace`, mapped to this image by its kustomization; the Helm
# chart's own default is older (1.5.0), so the program always sets it.
MLSERVER_IMAGE = "docker.io/seldonio/mlserver:1.7.1"

CERT_MANAGER_VERSION = "v1.17.0"
CERT_MANAGER_CHART_REPOSITORY = "https://charts.jetstack.io"

GATEWAY_API_VERSION = "v1.5.1"
# The Gateway API project publishes its CRDs as release assets; `standard-install.yaml` is the standard channel.
GATEWAY_API_CRDS_URL = (
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml"
)
ENVOY_GATEWAY_VERSION = "v1.8.1"
ENVOY_GATEWAY_CHART = "oci://docker.io/envoyproxy/gateway-helm"
ENVOY_GATEWAY_CRDS_CHART = "oci://docker.io/envoyproxy/gateway-crds-helm"
ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"

ISTIO_VERSION = "1.27.1"
ISTIO_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"
KNATIVE_OPERATOR_VERSION = "v1.21.1"
KNATIVE_SERVING_VERSION = "1.21.1"
# The Knative operator chart is a release asset, as KServe's installer fetches it.
KNATIVE_OPERATOR_CHART_URL = (
    "https://github.com/knative/operator/releases/download/knative-{version}/knative-operator-{version}.tgz"
)

# KServe's charts, in a KServe chart source; Istio's, in an Istio chart source.
KSERVE_CHARTS = ("kserve-crd", "kserve-resources", "kserve-runtime-configs")
ISTIO_CHARTS = ("base", "istiod", "gateway")

# Built-in ClusterServingRuntimes of the kserve-runtime-configs chart (keys under kserve.servingruntime).
BUILTIN_RUNTIMES = (
    "tensorflow", "mlserver", "sklearnserver", "xgbserver", "huggingfaceserver", "huggingfaceserver_multinode",
    "tritonserver", "pmmlserver", "predictiveserver", "paddleserver", "lgbserver", "autogluonserver", "torchserve",
    "vllmserver",
)  # fmt: skip

# Runtimes the chart switches with another's flag: kserve-huggingfaceserver-multinode reads
# `huggingfaceserver.disabled` (its own `huggingfaceserver_multinode.disabled` is never read), so the two are
# installed together or not at all.
RUNTIMES_SWITCHED_WITH = {"huggingfaceserver_multinode": "huggingfaceserver"}

# KServe renamed its modes in v0.15; the old names are still accepted by KServe and by this config.
_LEGACY_MODE_NAMES = {"RawDeployment": "Standard", "Serverless": "Knative"}
# A pinned version: no ranges, wildcards or moving names, so `pulumi up` installs what review saw.
_PINNED = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?")
# Go durations as Pulumi's customTimeouts take them: 30s, 10m, 1h30m.
_DURATION = re.compile(r"([0-9]+h)?([0-9]+m)?([0-9]+s)?")

Issue = tuple[tuple[str | int, ...], str]


def _modern_mode_name(value: object) -> object:
    return _LEGACY_MODE_NAMES.get(value, value) if isinstance(value, str) else value


def _check_pinned(value: str) -> str:
    if not _PINNED.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a pinned version: give an exact release such as 'v1.17.0' or '1.27.1' "
            "(no ranges, wildcards or 'latest')"
        )
    return value


def _check_duration(value: str) -> str:
    if not value or not _DURATION.fullmatch(value):
        raise ValueError(f"{value!r} is not a duration: use forms such as '90s', '10m', '1h30m'")
    return value


def duration_seconds(value: str) -> int:
    """A checked duration ('1h30m') in whole seconds, as Pulumi's customTimeouts and Helm's --timeout count it."""
    found = _DURATION.fullmatch(value)
    if not value or not found:
        raise ValueError(f"{value!r} is not a duration: use forms such as '90s', '10m', '1h30m'")
    return sum(int(part[:-1]) * {"h": 3600, "m": 60, "s": 1}[part[-1]] for part in found.groups() if part)


# Relative local chart directories are read from the project directory (where Pulumi.yaml is).
PROJECT_DIR = Path(__file__).resolve().parent.parent
REMOTE_CHART_SCHEMES = ("oci://", "https://")


def _check_chart_source(value: str) -> str:
    check_token(value)
    if value.startswith(REMOTE_CHART_SCHEMES):
        return value
    if "://" in value:
        raise ValueError(
            f"{value!r} must be an oci:// registry (e.g. a mirror), an https:// Helm repository, or a local "
            "directory holding the unpacked chart(s)"
        )
    return value


def local_chart_source(source: str) -> Path | None:
    """The directory a local chart source names (None for a registry or repository)."""
    if source.startswith(REMOTE_CHART_SCHEMES):
        return None
    return (PROJECT_DIR / source).resolve()


def chart_location(source: str, chart: str | None) -> tuple[str, str | None]:
    """(chart reference, Helm repository URL) for a chart source: `chart` in a repository-like source (an https://
    repository, an oci:// registry path, a local directory of charts), or None when `source` is the chart itself."""
    local = local_chart_source(source)
    if chart is None:
        return (str(local), None) if local else (source, None)
    if local:
        return str(local / chart), None
    if source.startswith("oci://"):
        return f"{source.rstrip('/')}/{chart}", None
    return chart, source


def local_chart_problem(source: str, chart: str | None, version: str) -> str | None:
    """Why a local chart source cannot stand for `chart` at the pinned `version` (None when it can)."""
    directory = Path(chart_location(source, chart)[0])
    manifest = directory / "Chart.yaml"
    if not manifest.is_file():
        return f"has no chart at {directory} (no Chart.yaml): unpack the chart there (helm pull --untar)"
    found = re.search(r"^version:\s*['\"]?([^'\"\s]+)", manifest.read_text(encoding="utf-8"), re.M)
    if not found or found.group(1) != version:
        actual = found.group(1) if found else "no version"
        return f"holds {directory.name} {actual}, but this stack pins {version}: unpack that version or change the pin"
    return None


DeploymentMode = Annotated[
    Literal["Standard", "Knative"],
    BeforeValidator(
        _modern_mode_name, json_schema_input_type=Literal["Standard", "Knative", "RawDeployment", "Serverless"]
    ),
]
PinnedVersion = Annotated[str, AfterValidator(_check_pinned)]
Duration = Annotated[str, AfterValidator(_check_duration)]
ChartSource = Annotated[str, AfterValidator(_check_chart_source)]


def _given_keys(model: StrictModel) -> list[str]:
    """The keys a user wrote in the stack file for this block (in their spelling)."""
    fields = type(model).model_fields
    return sorted(fields[name].alias or name for name in model.model_fields_set)


class CertManagerConfig(StrictModel):
    """cert-manager issues the KServe webhook's serving certificate; KServe needs it before anything else."""

    install: bool = Field(
        True,
        description=(
            "Install cert-manager. false: the cluster already runs cert-manager (>= 1.15); the "
            "program then neither installs nor removes it."
        ),
    )
    version: PinnedVersion = Field(CERT_MANAGER_VERSION, description="cert-manager version (pinned).")
    chart_repository: ChartSource = Field(
        CERT_MANAGER_CHART_REPOSITORY,
        description=(
            "Where the cert-manager chart comes from (https:// repository, oci:// registry or local directory)."
        ),
    )
    namespace: DnsLabel = Field("cert-manager", description="Namespace cert-manager is installed in.")


class EnvoyGatewayConfig(StrictModel):
    """Envoy Gateway: the Gateway API implementation KServe's installer pins for Standard mode."""

    install: bool = Field(
        True,
        description=(
            "Install Envoy Gateway. false: another Gateway API controller serves the GatewayClass "
            "named in gatewayApi.gatewayClassName."
        ),
    )
    version: PinnedVersion = Field(ENVOY_GATEWAY_VERSION, description="Envoy Gateway version (pinned).")
    chart: ChartSource = Field(
        ENVOY_GATEWAY_CHART,
        description="Envoy Gateway's Helm chart (oci:// registry, https:// repository or local directory).",
    )
    crds_chart: ChartSource = Field(ENVOY_GATEWAY_CRDS_CHART, description="The chart holding Envoy Gateway's CRDs.")
    namespace: DnsLabel = Field("envoy-gateway-system", description="Namespace Envoy Gateway is installed in.")


class GatewayApiConfig(StrictModel):
    """External access in Standard mode through Gateway API: CRDs, a controller, a GatewayClass and a Gateway."""

    install_crds: bool = Field(
        True,
        description=("Install the Gateway API CRDs. false: the cluster (e.g. a managed offering) already has them."),
    )
    crds_version: PinnedVersion = Field(
        GATEWAY_API_VERSION, description="Gateway API CRDs version (standard channel, pinned)."
    )
    envoy_gateway: EnvoyGatewayConfig = Field(
        default_factory=EnvoyGatewayConfig,
        description="Envoy Gateway, the Gateway API controller installed by default.",
    )
    gateway_class_name: DnsLabel = Field("envoy", description="Name of the GatewayClass the Gateway uses.")
    controller_name: DomainPrefixedPath = Field(
        ENVOY_GATEWAY_CONTROLLER,
        description="Controller that serves the GatewayClass (Envoy Gateway's unless you bring your own).",
    )
    gateway_name: DnsLabel = Field(
        "kserve-ingress-gateway",
        description=(
            "Name of the Gateway, in KServe's namespace, where KServe's default ingress gateway setting looks for it."
        ),
    )
    crds_manifest: Token | None = Field(
        None,
        description=(
            "Where the Gateway API release manifest is read from instead of its release asset: a URL or a local "
            "file (`mirror.manifests` sets it for a mirror)."
        ),
    )

    @property
    def upstream_crds_url(self) -> str:
        return GATEWAY_API_CRDS_URL.format(version=self.crds_version)

    @property
    def crds_url(self) -> str:
        return self.crds_manifest or self.upstream_crds_url


class IngressConfig(StrictModel):
    """How clients outside the cluster reach the models."""

    mode: Literal["gatewayApi", "ingressClass", "none"] = Field(
        "gatewayApi",
        description=(
            "Standard mode only: gatewayApi (recommended; installs Gateway API and Envoy Gateway), "
            "ingressClass (an ingress controller the cluster already runs), or none (cluster-internal "
            "URLs only)."
        ),
    )
    gateway_api: GatewayApiConfig = Field(
        default_factory=GatewayApiConfig,
        description="mode gatewayApi: the Gateway API CRDs, controller, GatewayClass and Gateway.",
    )
    class_name: DnsLabel | None = Field(
        None, description=("mode ingressClass: the IngressClass of a controller the cluster already runs (e.g. nginx).")
    )
    domain: DnsSubdomain = Field(
        "example.com",
        description=(
            "The domain KServe builds model hosts from: {name}-{namespace}.{domain}. Set your own; "
            "example.com only suits local tests."
        ),
    )
    url_scheme: Literal["http", "https"] = Field(
        "http", description="Scheme of the model URLs KServe reports: http or https."
    )


# Fixed namespaces of Knative mode: Knative's net-istio and KServe's local gateway defaults point at istio-system,
# and KServe's defaults (localGateway knative-serving/knative-local-gateway, ingressGateway
# knative-serving/knative-ingress-gateway) name knative-serving.
ISTIO_NAMESPACE = "istio-system"
KNATIVE_SERVING_NAMESPACE = "knative-serving"


class IstioConfig(StrictModel):
    version: PinnedVersion = Field(ISTIO_VERSION, description="Istio version (pinned).")
    chart_repository: ChartSource = Field(
        ISTIO_CHART_REPOSITORY, description="Where Istio's charts (base, istiod, gateway) come from."
    )


class GatewayServiceConfig(StrictModel):
    """The Service in front of Istio's ingress gateway, where Knative mode's traffic enters the cluster."""

    type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = Field(
        "LoadBalancer",
        description=(
            "LoadBalancer (needs a cloud or in-cluster load balancer such as MetalLB), NodePort "
            "(kind, minikube, bare metal), or ClusterIP (cluster-internal only)."
        ),
    )
    wait_for_address: bool = Field(
        True,
        description=(
            "LoadBalancer only: wait (up to kserve.timeouts.create) until the load balancer assigns "
            "an address. false: do not wait (e.g. `minikube tunnel` not running yet)."
        ),
    )


class KnativeConfig(StrictModel):
    """Knative mode's networking layer (Istio) and Knative Serving, installed through the Knative Operator."""

    operator_version: PinnedVersion = Field(KNATIVE_OPERATOR_VERSION, description="Knative Operator version (pinned).")
    serving_version: PinnedVersion = Field(
        KNATIVE_SERVING_VERSION, description="Knative Serving version the operator installs (pinned)."
    )
    operator_namespace: DnsLabel = Field(
        "knative-operator", description="Namespace the Knative Operator is installed in."
    )
    istio: IstioConfig = Field(
        default_factory=IstioConfig, description="Istio, Knative mode's networking layer (always in istio-system)."
    )
    gateway_service: GatewayServiceConfig = Field(
        default_factory=GatewayServiceConfig,
        description=(
            "The Service in front of Istio's ingress gateway, where Knative mode's traffic enters the cluster."
        ),
    )
    operator_chart: ChartSource | None = Field(
        None,
        description=(
            "The Knative operator chart instead of its release asset: an oci:// chart path or a local chart "
            "directory (`mirror.charts` sets it for a mirror)."
        ),
    )

    @property
    def upstream_operator_chart(self) -> str:
        return KNATIVE_OPERATOR_CHART_URL.format(version=self.operator_version)

    @property
    def operator_chart_reference(self) -> str:
        return self.operator_chart or self.upstream_operator_chart


class TimeoutsConfig(StrictModel):
    """Upper bounds on Pulumi's readiness waits for install objects (Deployments Available, webhooks served...)."""

    create: Duration = Field(
        "10m",
        description=(
            "Upper bound on waiting for an install object to become ready after creation (e.g. 90s, 10m, 1h30m)."
        ),
    )
    update: Duration = Field("10m", description="Upper bound on waiting after an update.")
    delete: Duration = Field("10m", description="Upper bound on waiting for a deletion.")


def _check_runtimes(value: list[str]) -> list[str]:
    unknown = [name for name in value if name not in BUILTIN_RUNTIMES]
    if unknown:
        raise ValueError(f"unknown built-in runtime(s) {', '.join(unknown)}; known: {', '.join(BUILTIN_RUNTIMES)}")
    if "mlserver" not in value:
        raise ValueError("must include 'mlserver': the stack's built-in models are served by kserve-mlserver")
    for runtime, switch in RUNTIMES_SWITCHED_WITH.items():
        if (runtime in value) != (switch in value):
            raise ValueError(
                f"list '{runtime}' and '{switch}' together or neither: KServe's runtime chart enables both with "
                f"one switch ({switch}.disabled)"
            )
    return list(dict.fromkeys(value))


# Keys that configure the install; with `install: false` they would silently do nothing.
_INSTALL_ONLY = (
    "chartRepository", "namespace", "builtinRuntimes", "certManager", "ingress", "knative", "timeouts",
    "deleteCrdsOnUninstall",
)  # fmt: skip
# Ingress keys that only Standard mode reads (Knative routes through the Istio ingress gateway).
_STANDARD_INGRESS_ONLY = ("mode", "gatewayApi", "className")


class KServeConfig(StrictModel):
    """Install settings for KServe and the defaults every InferenceService of the stack inherits."""

    install: bool = Field(
        True,
        description=(
            "Install KServe and its dependencies. false: the cluster already runs KServe; the program "
            "declares only runtimes and models (install-only keys are then refused)."
        ),
    )
    version: PinnedVersion = Field(
        KSERVE_VERSION, description="KServe version to install (a pinned release, e.g. v0.20.0)."
    )
    chart_repository: ChartSource = Field(
        KSERVE_CHART_REPOSITORY,
        description=(
            "Where KServe's Helm charts come from: an oci:// registry (e.g. a mirror), an https:// "
            "Helm repository, or a local directory of unpacked charts."
        ),
    )
    deployment_mode: DeploymentMode = Field(
        "Standard",
        description=(
            "Standard (Deployments + HPA; formerly RawDeployment) or Knative (formerly Serverless); "
            "set on every InferenceService. Changing it replaces every model."
        ),
    )
    mlserver_image: str = Field(
        MLSERVER_IMAGE,
        description=(
            "The MLServer image of the built-in kserve-mlserver runtime, as `<repository>:<tag>` (no "
            "digest, never latest)."
        ),
    )
    namespace: DnsLabel = Field("kserve", description="Namespace KServe's controller is installed in.")
    builtin_runtimes: Annotated[list[str], AfterValidator(_check_runtimes)] = Field(
        default_factory=lambda: ["mlserver"],
        description=(
            "KServe's built-in ClusterServingRuntimes to install; must include mlserver. E.g. add "
            "sklearnserver for V1 sklearn models."
        ),
    )
    cert_manager: CertManagerConfig = Field(
        default_factory=CertManagerConfig, description="cert-manager, which issues the KServe webhook's certificate."
    )
    ingress: IngressConfig = Field(
        default_factory=IngressConfig, description="How clients outside the cluster reach the models."
    )
    knative: KnativeConfig = Field(
        default_factory=KnativeConfig,
        description="Knative mode only: Istio and Knative Serving, installed through the Knative Operator.",
    )
    timeouts: TimeoutsConfig = Field(
        default_factory=TimeoutsConfig, description="How long Pulumi waits for install objects to become ready."
    )
    delete_crds_on_uninstall: bool = Field(
        False,
        description=(
            "Delete KServe's CRDs when the install is removed. Deleting the InferenceService CRD "
            "deletes every model in the cluster, so CRDs are kept unless this is true."
        ),
    )
    existing_namespaces: list[DnsLabel] = Field(
        default_factory=list,
        description=(
            "Namespaces that already exist in the cluster (owned by another team or tool): models may "
            "use them, but the program neither creates nor deletes them."
        ),
    )
    extra_storage_uri_prefixes: list[Token] = Field(
        default_factory=list,
        description=("URI prefixes a ClusterStorageContainer in the cluster serves, accepted in models[].storageUri."),
    )

    @field_validator("mlserver_image")
    @classmethod
    def _mlserver_image_with_tag(cls, value: str) -> str:
        # The runtime chart composes `image:tag`, so a digest cannot be passed through it.
        check_token(value)
        repository, _, tag = value.rpartition(":")
        if "@" in value or not repository or "/" in tag or not tag:
            raise ValueError(f"{value!r} must be '<repository>:<tag>', e.g. {MLSERVER_IMAGE}")
        if tag == "latest":
            raise ValueError(f"{value!r} uses the moving tag 'latest': pin a version tag, e.g. {MLSERVER_IMAGE}")
        return value

    @property
    def mlserver_repository(self) -> str:
        return self.mlserver_image.rpartition(":")[0]

    @property
    def mlserver_tag(self) -> str:
        return self.mlserver_image.rpartition(":")[2]

    def installed_namespaces(self) -> dict[str, str]:
        """Namespace -> the install step that declares it as its own Namespace object (none with install: false).

        Mirrors components/install: KServe's namespace always, cert-manager's when it installs it, Envoy Gateway's
        in Standard mode with Gateway API, and Istio's, the Knative operator's and Knative Serving's in Knative mode.
        """
        if not self.install:
            return {}
        out = {self.namespace: "KServe"}
        if self.cert_manager.install:
            out.setdefault(self.cert_manager.namespace, "cert-manager")
        if self.deployment_mode == "Knative":
            out.setdefault(ISTIO_NAMESPACE, "Istio")
            out.setdefault(self.knative.operator_namespace, "the Knative operator")
            out.setdefault(KNATIVE_SERVING_NAMESPACE, "Knative Serving")
        elif self.ingress.mode == "gatewayApi" and self.ingress.gateway_api.envoy_gateway.install:
            out.setdefault(self.ingress.gateway_api.envoy_gateway.namespace, "Envoy Gateway")
        return out

    @property
    def uses_gateway_api(self) -> bool:
        return self.install and self.deployment_mode == "Standard" and self.ingress.mode == "gatewayApi"

    def _local_chart_issues(self) -> Iterator[Issue]:
        """Local chart directories (kserve.chartRepository and the like) must hold each chart at its pinned version."""
        sources: list[tuple[tuple[str | int, ...], str, tuple[str | None, ...], str]] = [
            (("chartRepository",), self.chart_repository, KSERVE_CHARTS, self.version)
        ]
        if self.cert_manager.install:
            sources.append(
                (("certManager", "chartRepository"), self.cert_manager.chart_repository, ("cert-manager",),
                 self.cert_manager.version)
            )  # fmt: skip
        if self.deployment_mode == "Knative":
            istio = self.knative.istio
            sources.append(
                (("knative", "istio", "chartRepository"), istio.chart_repository, ISTIO_CHARTS, istio.version)
            )
            if self.knative.operator_chart is not None:
                sources.append(
                    (("knative", "operatorChart"), self.knative.operator_chart, (None,), self.knative.operator_version)
                )
        elif self.uses_gateway_api and self.ingress.gateway_api.envoy_gateway.install:
            envoy = self.ingress.gateway_api.envoy_gateway
            for key, source in (("chart", envoy.chart), ("crdsChart", envoy.crds_chart)):
                sources.append((("ingress", "gatewayApi", "envoyGateway", key), source, (None,), envoy.version))
        for path, source, names, version in sources:
            if local_chart_source(source) is None:
                continue
            for name in names:
                problem = local_chart_problem(source, name, version)
                if problem:
                    yield path, problem

    def install_issues(self) -> Iterator[Issue]:
        """Settings that contradict each other (paths relative to `kserve`), each with what to do instead."""
        given = set(_given_keys(self))
        if not self.install:
            message = (
                "has no effect with kserve.install: false (the cluster's own KServe install is used as it is); "
                "remove it, or set install: true to let this stack install KServe"
            )
            for key in sorted(given.intersection(_INSTALL_ONLY)):
                yield (key,), message
            return
        ingress_keys = set(_given_keys(self.ingress))
        mode = self.ingress.mode
        if self.deployment_mode == "Knative":
            message = (
                "applies to deploymentMode: Standard only; in Knative mode traffic enters through the Istio ingress "
                "gateway that kserve.knative installs (only ingress.domain and ingress.urlScheme apply)"
            )
            for key in sorted(ingress_keys.intersection(_STANDARD_INGRESS_ONLY)):
                yield ("ingress", key), message
            service = self.knative.gateway_service
            if service.type != "LoadBalancer" and "wait_for_address" in service.model_fields_set:
                message = (
                    f"applies to type: LoadBalancer only (a {service.type} Service gets no load-balancer address to "
                    "wait for); remove it"
                )
                yield ("knative", "gatewayService", "waitForAddress"), message
        else:
            if "knative" in given:
                message = "applies to deploymentMode: Knative only; remove it, or set kserve.deploymentMode: Knative"
                yield ("knative",), message
            if mode == "ingressClass" and self.ingress.class_name is None:
                message = (
                    "required with ingress.mode: ingressClass: name the IngressClass of the ingress controller the "
                    "cluster runs (kubectl get ingressclass)"
                )
                yield ("ingress", "className"), message
            for key, wanted in (("className", "ingressClass"), ("gatewayApi", "gatewayApi")):
                if mode != wanted and key in ingress_keys:
                    message = f"applies to ingress.mode: {wanted} only (mode is {mode}); remove it or change the mode"
                    yield ("ingress", key), message
        if not self.cert_manager.install:
            message = "has no effect with certManager.install: false (the cluster's cert-manager is used); remove it"
            for key in sorted(set(_given_keys(self.cert_manager)) - {"install"}):
                yield ("certManager", key), message
        yield from self._local_chart_issues()
        envoy = self.ingress.gateway_api.envoy_gateway
        if not envoy.install:
            message = "has no effect with envoyGateway.install: false (another controller serves the class); remove it"
            for key in sorted(set(_given_keys(envoy)) - {"install"}):
                yield ("ingress", "gatewayApi", "envoyGateway", key), message
