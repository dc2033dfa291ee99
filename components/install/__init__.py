"""KServe and everything it needs, installed in an order that converges on the first `pulumi up`.

    cert-manager ─────────────┐                         (in parallel:)
    networking (Gateway API   ├─> kserve-resources ─> kserve-runtime-configs ─> [ready]
      or Istio + Knative) ────┤     (controller,          (ClusterServingRuntimes)
    kserve-crd ───────────────┘      webhooks)

`ready` is what runtimes, model namespaces and InferenceServices depend on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.install.cert_manager import CertManager, CertManagerArgs
from components.install.common import namespace
from components.install.gateway import GatewayApi, GatewayApiArgs
from components.install.knative import Knative, KnativeArgs
from components.install.kserve import KServe, KServeArgs
from components.install.mirror import (
    cert_manager_image_values,
    envoy_gateway_image_values,
    istiod_image_values,
    knative_operator_image_values,
    knative_serving_registry,
)
from components.install.safety import InstallPolicy, install_transform
from config.kserve import KServeConfig
from config.mirror import MirrorConfig


def installed_versions(config: KServeConfig) -> dict[str, str]:
    """What this stack installs, by component (the stack output `kserveInstall.versions`)."""
    versions = {"kserve": config.version, "mlserverImage": config.mlserver_image}
    if config.cert_manager.install:
        versions["certManager"] = config.cert_manager.version
    if config.deployment_mode == "Knative":
        versions.update(
            istio=config.knative.istio.version,
            knativeOperator=config.knative.operator_version,
            knativeServing=config.knative.serving_version,
        )
    elif config.ingress.mode == "gatewayApi":
        gateway_api = config.ingress.gateway_api
        if gateway_api.install_crds:
            versions["gatewayApi"] = gateway_api.crds_version
        if gateway_api.envoy_gateway.install:
            versions["envoyGateway"] = gateway_api.envoy_gateway.version
    return versions


def ingress_summary(config: KServeConfig) -> dict[str, Any]:
    """How models are reached from outside the cluster (the stack output `kserveInstall.ingress`)."""
    ingress = config.ingress
    hosts = f"{{name}}-{{namespace}}.{ingress.domain}"
    if config.deployment_mode == "Knative":
        return {
            "mode": "knative",
            "gateway": "knative-serving/knative-ingress-gateway",
            "service": "istio-system/istio-ingressgateway",
            "hosts": hosts,
        }
    if ingress.mode == "gatewayApi":
        gateway = f"{config.namespace}/{ingress.gateway_api.gateway_name}"
        return {
            "mode": "gatewayApi",
            "gateway": gateway,
            "hosts": hosts,
            "addressCommand": (
                f"kubectl get gateway -n {config.namespace} {ingress.gateway_api.gateway_name} "
                "-o jsonpath='{.status.addresses[0].value}'"
            ),
        }
    if ingress.mode == "ingressClass":
        return {"mode": "ingressClass", "ingressClassName": ingress.class_name, "hosts": hosts}
    return {"mode": "none", "hosts": "cluster-internal only: {name}-predictor.{namespace}.svc.cluster.local"}


def install_policy(config: KServeConfig, protect: bool) -> InstallPolicy:
    """The policy the install's transform applies to every object (see safety.py)."""
    timeouts = config.timeouts
    return InstallPolicy(
        retain_crds=not config.delete_crds_on_uninstall,
        protect=protect,
        timeouts=pulumi.CustomTimeouts(create=timeouts.create, update=timeouts.update, delete=timeouts.delete),
    )


@dataclass
class KServeInstallArgs:
    config: KServeConfig
    # Production: every install object, chart children included, refuses deletion until unprotected.
    protect: bool = False
    # Everything the install deploys comes from this mirror: chart and manifest sources (MirrorConfig.apply_to) and
    # every image (chart values).
    mirror: MirrorConfig | None = None


class KServeInstall(pulumi.ComponentResource):
    def __init__(self, name: str, args: KServeInstallArgs, opts: pulumi.ResourceOptions | None = None):
        mirror = args.mirror
        config = mirror.apply_to(args.config) if mirror else args.config
        timeouts = config.timeouts
        policy = install_policy(config, args.protect)
        # The transform reaches every object below, including those the provider creates inside charts.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=args.protect, transforms=[install_transform(policy)])
        )
        super().__init__("kserve-platform:install:KServeInstall", name, None, opts)

        self.namespace = namespace(config.namespace, parent=self, labels={"istio-injection": "disabled"})
        prerequisites: list[pulumi.Resource] = []
        self.cert_manager: CertManager | None = None
        if config.cert_manager.install:
            self.cert_manager = CertManager(
                "cert-manager",
                CertManagerArgs(
                    config.cert_manager,
                    keep_crds=not config.delete_crds_on_uninstall,
                    image_values=cert_manager_image_values(config, mirror),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            prerequisites.append(self.cert_manager)
        self.networking: pulumi.ComponentResource | None = None
        if config.deployment_mode == "Knative":
            self.networking = Knative(
                "knative",
                KnativeArgs(
                    config.knative,
                    domain=config.ingress.domain,
                    istiod_image_values=istiod_image_values(config, mirror),
                    operator_image_values=knative_operator_image_values(config, mirror),
                    serving_registry=knative_serving_registry(config, mirror),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        elif config.ingress.mode == "gatewayApi":
            self.networking = GatewayApi(
                "gateway-api",
                GatewayApiArgs(
                    config.ingress.gateway_api,
                    gateway_namespace=self.namespace,
                    gateway_namespace_name=config.namespace,
                    release_timeout=timeouts.create,
                    image_values=envoy_gateway_image_values(config, mirror),
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        if self.networking is not None:
            prerequisites.append(self.networking)
        self.kserve = KServe(
            "kserve",
            KServeArgs(config, namespace=self.namespace, prerequisites=prerequisites, mirror=mirror),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # What runtimes, model namespaces and InferenceServices wait for.
        self.ready: list[pulumi.Resource] = list(self.kserve.ready)
        self.summary = {
            "installed": True,
            "deploymentMode": config.deployment_mode,
            "versions": installed_versions(config),
            "ingress": ingress_summary(config),
            "crdsDeletedOnUninstall": config.delete_crds_on_uninstall,
        }
        self.register_outputs({key: pulumi.Output.from_input(value) for key, value in self.summary.items()})


def existing_install_summary(config: KServeConfig) -> dict[str, Any]:
    """The `kserveInstall` output when the cluster's own KServe is used (`install: false`)."""
    return {"installed": False, "deploymentMode": config.deployment_mode, "versions": {"kserve": config.version}}
