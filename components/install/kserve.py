"""KServe itself from its official charts: CRDs, then controller and webhooks, then the built-in runtimes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.install.common import chart
from components.install.knative import ISTIO_NAMESPACE, SERVING_NAMESPACE
from components.install.mirror import kserve_resources_image_values, merged, runtime_image_values
from config.kserve import BUILTIN_RUNTIMES, KSERVE_CHARTS, RUNTIMES_SWITCHED_WITH, KServeConfig
from config.mirror import MirrorConfig

CRD_CHART, RESOURCES_CHART, RUNTIMES_CHART = KSERVE_CHARTS


def gateway_values(config: KServeConfig) -> dict[str, Any]:
    """`kserve.controller.gateway` of the kserve-resources chart: how KServe exposes each InferenceService."""
    ingress = config.ingress
    gateway: dict[str, Any] = {"domain": ingress.domain, "urlScheme": ingress.url_scheme}
    if config.deployment_mode == "Knative":
        gateway["ingressGateway"] = {
            "enableGatewayApi": False,
            "gateway": f"{SERVING_NAMESPACE}/knative-ingress-gateway",
            "className": "istio",
        }
        gateway["localGateway"] = {
            "gateway": f"{SERVING_NAMESPACE}/knative-local-gateway",
            "gatewayService": f"knative-local-gateway.{ISTIO_NAMESPACE}.svc.cluster.local",
        }
        return gateway
    gateway["disableIngressCreation"] = ingress.mode == "none"
    if ingress.mode == "gatewayApi":
        gateway["ingressGateway"] = {
            "enableGatewayApi": True,
            "kserveGateway": f"{config.namespace}/{ingress.gateway_api.gateway_name}",
            # The program creates the Gateway itself (GatewayApi component) so it is visible and validated.
            "createGateway": False,
        }
    elif ingress.mode == "ingressClass":
        gateway["ingressGateway"] = {"enableGatewayApi": False, "className": ingress.class_name}
    else:
        gateway["ingressGateway"] = {"enableGatewayApi": False}
    return gateway


def resources_values(config: KServeConfig) -> dict[str, Any]:
    return {
        "kserve": {
            "version": config.version,
            "controller": {
                # Set explicitly: the chart's own default is Knative.
                "deploymentMode": config.deployment_mode,
                "gateway": gateway_values(config),
            },
        }
    }


def runtimes_values(config: KServeConfig) -> dict[str, Any]:
    """The built-in ClusterServingRuntimes: the chart installs none unless `servingruntime.enabled`; MLServer gets
    the pinned image whatever the chart defaults to, and runtimes not asked for are disabled."""
    runtimes: dict[str, Any] = {"enabled": True}
    for runtime in BUILTIN_RUNTIMES:
        # The chart never reads these runtimes' own switch (see RUNTIMES_SWITCHED_WITH).
        if runtime not in config.builtin_runtimes and runtime not in RUNTIMES_SWITCHED_WITH:
            runtimes[runtime] = {"disabled": True}
    runtimes["mlserver"] = {"disabled": False, "image": config.mlserver_repository, "tag": config.mlserver_tag}
    return {"kserve": {"version": config.version, "servingruntime": runtimes}}


@dataclass
class KServeArgs:
    config: KServeConfig
    namespace: pulumi.Resource
    # Steps whose readiness the controller needs: cert-manager (its Issuer and Certificate), the networking layer.
    prerequisites: Sequence[pulumi.Resource] = field(default_factory=list)
    # Pull every image from this mirror (components/install/mirror.py).
    mirror: MirrorConfig | None = None


class KServe(pulumi.ComponentResource):
    """KServe's three charts in order; `ready` is what runtimes and models must wait for."""

    def __init__(self, name: str, args: KServeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:install:KServe", name, None, opts)
        config = args.config
        # CRDs need nothing else (no conversion webhooks), so they install alongside cert-manager.
        self.crds = chart(
            "kserve-crd",
            parent=self,
            chart=CRD_CHART,
            repository=config.chart_repository,
            version=config.version,
            namespace=config.namespace,
            # Deleting the InferenceService CRD deletes every model in the cluster. Kept by retainOnDelete on each
            # CRD (the install transform), not by `protect`: a protected chart passes `protect` to its children and
            # `pulumi destroy` or `install: false` would then fail on them (see safety.py).
            depends_on=[args.namespace],
        )
        # Controller, webhooks, the webhook's cert-manager Issuer + Certificate, inferenceservice-config.
        # Ready = CRDs Established (above), controller Deployment Available, webhook Service with endpoints and
        # webhook configurations with their CA bundle injected.
        self.resources = chart(
            "kserve-resources",
            parent=self,
            chart=RESOURCES_CHART,
            repository=config.chart_repository,
            version=config.version,
            namespace=config.namespace,
            values=merged(resources_values(config), kserve_resources_image_values(config, args.mirror)),
            release_name="kserve",
            depends_on=[args.namespace, self.crds, *args.prerequisites],
        )
        # ClusterServingRuntimes go through KServe's validating webhook, which fails closed: after the controller.
        self.runtimes = chart(
            "kserve-runtime-configs",
            parent=self,
            chart=RUNTIMES_CHART,
            repository=config.chart_repository,
            version=config.version,
            namespace=config.namespace,
            values=merged(runtimes_values(config), runtime_image_values(config, args.mirror)),
            depends_on=[self.resources],
        )
        self.ready: list[pulumi.Resource] = [self.resources, self.runtimes]
        self.version = pulumi.Output.from_input(config.version)
        self.register_outputs({"version": self.version})
