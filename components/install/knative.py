"""Knative mode's dependencies: Istio (networking layer) and Knative Serving through the Knative Operator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.install.common import MANAGED_BY, chart, namespace
from components.install.mirror import merged
from components.manifest import custom_resource
from config.kserve import ISTIO_CHARTS, ISTIO_NAMESPACE, GatewayServiceConfig, KnativeConfig
from config.kserve import KNATIVE_SERVING_NAMESPACE as SERVING_NAMESPACE

# The Istio gateway chart's Service takes the release name; Knative's Istio gateways select its pods.
INGRESS_GATEWAY_RELEASE = "istio-ingressgateway"
BASE_CHART, ISTIOD_CHART, GATEWAY_CHART = ISTIO_CHARTS
SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
VALIDATING_WEBHOOK_TYPE = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration"
# What istiod's webhook controller sets `failurePolicy` to once its validation endpoint answers.
ISTIOD_FAILURE_POLICY = "Fail"


def istio_base_values() -> dict[str, Any]:
    # The revision the `istiod-default-validator` webhook sends to (the chart's own default, stated for review).
    return {"defaultRevision": "default"}


def istiod_values() -> dict[str, Any]:
    # As KServe's installer: no automatic sidecar injection (KServe's pods do not need the mesh). The chart reads
    # `global.proxy.autoInject` (into the injector's `policy`); a top-level `proxy` key is ignored.
    return {"global": {"proxy": {"autoInject": "disabled"}}}


def ingress_gateway_values(service: GatewayServiceConfig) -> dict[str, Any]:
    values: dict[str, Any] = {"service": {"type": service.type}}
    if service.type == "LoadBalancer" and not service.wait_for_address:
        # The provider otherwise waits for `status.loadBalancer.ingress`, which a cluster without a load balancer
        # never fills in, and KnativeServing (which waits for this chart) never starts.
        values["service"]["annotations"] = {SKIP_AWAIT_ANNOTATION: "true"}
    return values


def own_istio_validation_failure_policy(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Istio's validating webhooks are rendered `failurePolicy: Ignore` and istiod rewrites them to `Fail` once it
    serves; server-side apply then reports a conflict on the next update that sends `Ignore` (pulumi-kubernetes
    #2210). The program applies the value istiod settles on, so both managers agree and nothing conflicts."""
    if args.type_ != VALIDATING_WEBHOOK_TYPE:
        return None
    labels = (args.props.get("metadata") or {}).get("labels") or {}
    if labels.get("app") != "istiod":
        return None
    webhooks = [
        {**webhook, "failurePolicy": ISTIOD_FAILURE_POLICY} if isinstance(webhook, dict) else webhook
        for webhook in args.props.get("webhooks") or []
    ]
    return pulumi.ResourceTransformResult(props={**args.props, "webhooks": webhooks}, opts=args.opts)


def knative_serving_manifest(
    config: KnativeConfig, domain: str, registry: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The KnativeServing the operator turns into Knative Serving (shaped as KServe's installer template);
    `registry` (spec.registry) moves Serving's images to the stack's mirror."""
    manifest: dict[str, Any] = {
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
    if registry is not None:
        manifest["spec"]["registry"] = dict(registry)
    return manifest


@dataclass
class KnativeArgs:
    config: KnativeConfig
    domain: str
    # Values and `spec.registry` that move the images to the stack's mirror (components/install/mirror.py).
    istiod_image_values: Mapping[str, Any] = field(default_factory=dict)
    operator_image_values: Mapping[str, Any] = field(default_factory=dict)
    serving_registry: Mapping[str, Any] | None = None


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
            chart=BASE_CHART,
            repository=istio.chart_repository,
            version=istio.version,
            namespace=ISTIO_NAMESPACE,
            values=istio_base_values(),
            depends_on=[self.istio_namespace],
            transforms=[own_istio_validation_failure_policy],
        )
        self.istiod = chart(
            "istiod",
            parent=self,
            chart=ISTIOD_CHART,
            repository=istio.chart_repository,
            version=istio.version,
            namespace=ISTIO_NAMESPACE,
            values=merged(istiod_values(), args.istiod_image_values),
            depends_on=[self.istio_base],
            transforms=[own_istio_validation_failure_policy],
        )
        # Gateway pods are injected by istiod's webhook, so the gateway waits for istiod.
        self.ingress_gateway = chart(
            "istio-ingressgateway",
            parent=self,
            chart=GATEWAY_CHART,
            repository=istio.chart_repository,
            version=istio.version,
            namespace=ISTIO_NAMESPACE,
            values=ingress_gateway_values(config.gateway_service),
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
            chart=config.operator_chart_reference,
            version=config.operator_version,
            namespace=config.operator_namespace,
            values=dict(args.operator_image_values),
            depends_on=[self.operator_namespace],
        )
        self.serving_namespace = namespace(SERVING_NAMESPACE, parent=self)
        serving = knative_serving_manifest(config, args.domain, args.serving_registry)
        self.serving = custom_resource(
            "knative-serving",
            serving,
            pulumi.ResourceOptions(
                parent=self, depends_on=[self.operator, self.ingress_gateway, self.serving_namespace]
            ),
        )
        self.gateway_ref = pulumi.Output.from_input(f"{SERVING_NAMESPACE}/knative-ingress-gateway")
        self.register_outputs({"gateway": self.gateway_ref})
