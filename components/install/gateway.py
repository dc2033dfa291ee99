"""Standard mode's external access through Gateway API: CRDs, Envoy Gateway, a GatewayClass and KServe's Gateway."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.install.common import MANAGED_BY, chart, namespace
from components.install.mirror import merged
from components.manifest import custom_resource
from config.kserve import GatewayApiConfig, chart_location, duration_seconds

GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"
# Pulumi waits for this condition: the controller accepted the Gateway. (`Programmed` would also wait for a
# load-balancer address, which clusters without one never assign.)
GATEWAY_WAIT_FOR = "condition=Accepted"


def gateway_class_manifest(config: GatewayApiConfig) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "GatewayClass",
        "metadata": {"name": config.gateway_class_name, "labels": dict(MANAGED_BY)},
        "spec": {"controllerName": config.controller_name},
    }


def gateway_manifest(config: GatewayApiConfig, namespace: str) -> dict[str, Any]:
    """The Gateway KServe attaches its HTTPRoutes to (`kserveIngressGateway: <namespace>/<name>`), shaped as
    KServe's installer creates it: one HTTP listener on port 80 accepting routes from every namespace."""
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "Gateway",
        "metadata": {
            "name": config.gateway_name,
            "namespace": namespace,
            "labels": dict(MANAGED_BY),
            "annotations": {"pulumi.com/waitFor": GATEWAY_WAIT_FOR},
        },
        "spec": {
            "gatewayClassName": config.gateway_class_name,
            "listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "All"}}}
            ],
            "infrastructure": {"labels": {"serving.kserve.io/gateway": config.gateway_name}},
        },
    }


def envoy_gateway_crds_values() -> dict[str, Any]:
    # Only Envoy Gateway's own CRDs: the Gateway API CRDs come from the pinned standard-install.yaml, and two
    # owners of one CRD would fight over it (and delete it when either goes).
    return {"crds": {"gatewayAPI": {"enabled": False}, "envoyGateway": {"enabled": True}}}


def envoy_gateway_values() -> dict[str, Any]:
    # The chart's crds subchart renders Gateway API's safe-upgrade ValidatingAdmissionPolicy and its binding even
    # with skip_crds (they are templates, not crds/ files); the pinned Gateway API release manifest applied above
    # carries the same two objects, and two owners of one object fight over it.
    return {"crds": {"gatewayAPI": {"safeUpgradePolicy": {"enabled": False}}}}


@dataclass
class GatewayApiArgs:
    config: GatewayApiConfig
    # The KServe namespace, where the Gateway lives.
    gateway_namespace: k8s.core.v1.Namespace
    gateway_namespace_name: str
    # Bound for the Envoy Gateway release's own wait (a Go duration from kserve.timeouts.create).
    release_timeout: str
    # Values that move Envoy Gateway's images to the stack's mirror (components/install/mirror.py).
    image_values: Mapping[str, Any] = field(default_factory=dict)


class GatewayApi(pulumi.ComponentResource):
    """Ready once the Gateway API CRDs are Established, Envoy Gateway runs and it accepted KServe's Gateway."""

    def __init__(self, name: str, args: GatewayApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:install:GatewayApi", name, None, opts)
        config = args.config
        envoy = config.envoy_gateway
        crds: list[pulumi.Resource] = []
        if config.install_crds:
            self.crds = k8s.yaml.v2.ConfigFile(
                "gateway-api-crds",
                file=config.crds_url,
                opts=pulumi.ResourceOptions(parent=self),
            )
            crds.append(self.crds)
        controller: list[pulumi.Resource] = []
        if envoy.install:
            self.envoy_namespace = namespace(envoy.namespace, parent=self)
            self.envoy_crds = chart(
                "envoy-gateway-crds",
                parent=self,
                chart=envoy.crds_chart,
                version=envoy.version,
                namespace=envoy.namespace,
                values=envoy_gateway_crds_values(),
                depends_on=[self.envoy_namespace, *crds],
            )
            # A Helm release, not a Chart v4: the chart creates the controller's TLS certificates in a pre-install
            # hook Job (certgen) and Chart v4 does not run hooks (pulumi-kubernetes #3284), so the controller
            # would wait forever for its secret. Its CRDs stay in the Chart v4 above, visible and retained.
            self.envoy_gateway = k8s.helm.v3.Release(
                "envoy-gateway",
                name="eg",
                chart=chart_location(envoy.chart, None)[0],
                version=envoy.version,
                namespace=envoy.namespace,
                skip_crds=True,
                values=merged(envoy_gateway_values(), args.image_values),
                timeout=duration_seconds(args.release_timeout),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.envoy_crds]),
            )
            controller.append(self.envoy_gateway)
        gateway_class = gateway_class_manifest(config)
        self.gateway_class = custom_resource(
            "gateway-class",
            gateway_class,
            pulumi.ResourceOptions(parent=self, depends_on=[*crds, *controller]),
        )
        gateway = gateway_manifest(config, args.gateway_namespace_name)
        self.gateway = custom_resource(
            "gateway",
            gateway,
            pulumi.ResourceOptions(parent=self, depends_on=[self.gateway_class, args.gateway_namespace]),
        )
        self.gateway_ref = pulumi.Output.from_input(f"{args.gateway_namespace_name}/{config.gateway_name}")
        self.register_outputs({"gateway": self.gateway_ref})
