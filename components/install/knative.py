"""Knative mode's dependencies: Istio (networking layer) and Knative Serving through the Knative Operator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.install.common import MANAGED_BY, chart, namespace
from components.manifest import custom_resource
from config.kserve import ISTIO_NAMESPACE, KnativeConfig
from config.kserve import KNATIVE_SERVING_NAMESPACE as SERVING_NAMESPACE

# The Istio gateway chart's Service takes the release name; Knative's Istio gateways select its pods.
INGRESS_GATEWAY_RELEASE = "istio-ingressgateway"


def istiod_values() -> dict[str, Any]:
    # As KServe's installer: no automatic sidecar injection (KServe's pods do not need the mesh).
    return {"proxy": {"autoInject": "disabled"}}


def knative_serving_manifest(config: KnativeConfig, domain: str) -> dict[str, Any]:
    """The KnativeServing the operator turns into Knative Serving (shaped as KServe's installer template)."""
    return {
        "apiVersion": "operator.knative.dev/v1beta1",
        "kind": "KnativeServing",
        "metadata": {
            "name": "knative-serving",
            "namespace": SERVING_NAMESPACE,
            "labels": dict(MANAGED_BY),
            # Pulumi waits until the operator reports every Serving component Ready.
            "annotations": {"pulumi.com/waitFor": "condition=Ready"},
        },
        "spec": {
            "version": config.serving_version,
            "ingress": {"istio": {"enabled": True}},
            "config": {
                # The external domain Knative builds routes from; the default svc.cluster.local is not exposed.
                "domain": {domain: ""},
            },
        },
    }


@dataclass
class KnativeArgs:
    config: KnativeConfig
    domain: str


class Knative(pulumi.ComponentResource):
    """Ready once istiod and the ingress gateway run, the operator runs and KnativeServing reports Ready."""

    def __init__(self, name: str, args: KnativeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:install:Knative", name, None, opts)
        config = args.config
        istio = config.istio
        self.istio_namespace = namespace(ISTIO_NAMESPACE, parent=self)
        self.istio_base = chart(
            "istio-base",
            parent=self,
            chart="base",
            repository=istio.chart_repository,
            version=istio.version,
            namespace=ISTIO_NAMESPACE,
            values={"defaultRevision": "default"},
            depends_on=[self.istio_namespace],
        )
        self.istiod = chart(
            "istiod",
            parent=self,
            chart="istiod",
            repository=istio.chart_repository,
            version=istio.version,
            namespace=ISTIO_NAMESPACE,
            values=istiod_values(),
            depends_on=[self.istio_base],
        )
        # Gateway pods are injected by istiod's webhook, so the gateway waits for istiod.
        self.ingress_gateway = chart(
            "istio-ingressgateway",
            parent=self,
            chart="gateway",
            repository=istio.chart_repository,
            version=istio.version,
            namespace=ISTIO_NAMESPACE,
            depends_on=[self.istiod],
            release_name=INGRESS_GATEWAY_RELEASE,
        )
        self.ingress_class = k8s.networking.v1.IngressClass(
            "istio",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="istio", labels=dict(MANAGED_BY)),
            spec=k8s.networking.v1.IngressClassSpecArgs(controller="istio.io/ingress-controller"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.istiod]),
        )
        self.operator_namespace = namespace(config.operator_namespace, parent=self)
        self.operator = chart(
            "knative-operator",
            parent=self,
            chart=config.operator_chart,
            version=config.operator_version,
            namespace=config.operator_namespace,
            depends_on=[self.operator_namespace],
        )
        self.serving_namespace = namespace(SERVING_NAMESPACE, parent=self)
        serving = knative_serving_manifest(config, args.domain)
        self.serving = custom_resource(
            "knative-serving",
            serving,
            pulumi.ResourceOptions(
                parent=self, depends_on=[self.operator, self.ingress_gateway, self.serving_namespace]
            ),
        )
        self.gateway_ref = pulumi.Output.from_input(f"{SERVING_NAMESPACE}/knative-ingress-gateway")
        self.register_outputs({"gateway": self.gateway_ref})
