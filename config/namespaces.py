"""`namespaces`: how the namespaces the stack creates for its models are secured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from config.base import StrictModel
from config.kserve import ISTIO_NAMESPACE, KNATIVE_SERVING_NAMESPACE, KServeConfig
from config.kubernetes import DnsLabel, LabelMap

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]


class NetworkPolicyConfig(StrictModel):
    """A default-deny ingress NetworkPolicy per model namespace, admitting only what must reach the predictors."""

    enabled: bool = Field(
        True,
        description=(
            "A default-deny ingress NetworkPolicy in each model namespace, admitting pods of the "
            "namespace itself, what this stack installs in front of the models (the KServe "
            "controller, `kserve`; Envoy Gateway's proxies, `envoy-gateway-system`, in Standard mode "
            "with Gateway API; Knative, `knative-serving`, and the Istio ingress gateway, "
            "`istio-system`, in Knative mode) and `allowFromNamespaces`. `false` is the documented "
            "switch to leave ingress open."
        ),
    )
    allow_from_namespaces: list[DnsLabel] | None = Field(
        None,
        description=(
            "Further namespaces admitted, e.g. `monitoring` for Prometheus scraping. **Required** "
            "(`[]` counts) where the program cannot know who calls the models: `kserve.install: "
            "false` (the cluster's own KServe; only the listed namespaces are admitted), "
            "`ingress.mode: ingressClass` (the controller's namespace, e.g. `ingress-nginx`) and "
            "`ingress.gatewayApi.envoyGateway.install: false` (the namespace of the other "
            "controller's gateway proxies). Default: unset (`[]`)."
        ),
    )


def installed_client_namespaces(kserve: KServeConfig) -> list[str]:
    """Namespaces whose pods reach the predictors because this stack installs them there.

    The KServe controller, and the data path in front of the models: Envoy Gateway's proxies (which run in its own
    namespace) for Gateway API in Standard mode; Knative's activator and the Istio ingress gateway in Knative mode."""
    if not kserve.install:
        return []
    if kserve.deployment_mode == "Knative":
        return sorted({kserve.namespace, KNATIVE_SERVING_NAMESPACE, ISTIO_NAMESPACE})
    envoy = kserve.ingress.gateway_api.envoy_gateway
    if kserve.ingress.mode == "gatewayApi" and envoy.install:
        return sorted({kserve.namespace, envoy.namespace})
    return [kserve.namespace]


def callers_unknown(kserve: KServeConfig) -> bool:
    """Whether some caller of the predictors runs where this program cannot know: the cluster's own KServe, or an
    ingress (or Gateway API) controller the stack does not install."""
    if not kserve.install:
        return True
    if kserve.deployment_mode == "Knative":
        return False
    mode = kserve.ingress.mode
    return mode == "ingressClass" or (mode == "gatewayApi" and not kserve.ingress.gateway_api.envoy_gateway.install)


def _unknown_callers(kserve: KServeConfig) -> str:
    if not kserve.install:
        return (
            "with kserve.install: false the program cannot know where the cluster's KServe controller and the "
            "ingress in front of the models run; list their namespaces (e.g. [kserve, envoy-gateway-system] for "
            "KServe's Standard install with Envoy Gateway, [kserve, knative-serving, istio-system] for Knative mode)"
        )
    if kserve.ingress.mode == "ingressClass":
        return (
            f"with ingress.mode: ingressClass the ingress controller of class '{kserve.ingress.class_name}' is the "
            f"cluster's, not this stack's; list its namespace (e.g. [ingress-nginx]; '{kserve.namespace}' is "
            "admitted already)"
        )
    return (
        "with ingress.gatewayApi.envoyGateway.install: false another Gateway API controller runs the gateway "
        f"proxies; list the namespace they run in ('{kserve.namespace}' is admitted already)"
    )


class NamespacesConfig(StrictModel):
    pod_security: PodSecurityLevel | None = Field(
        None,
        description=(
            "Pod Security Admission level enforced (`restricted`, `baseline`, `privileged`); below "
            "`restricted` the namespace still warns and audits against `restricted`. Knative mode "
            "defaults to `baseline` because Knative injects its queue-proxy sidecar, which this "
            "program does not control. Default: `restricted` in Standard mode, `baseline` in Knative "
            "mode."
        ),
    )
    network_policy: NetworkPolicyConfig = Field(
        default_factory=NetworkPolicyConfig,
        description=("A default-deny ingress NetworkPolicy in each model namespace, admitting what calls the models."),
    )
    labels: LabelMap = Field(default_factory=dict, description="Extra labels on every model namespace.")

    def network_policy_issues(self, kserve: KServeConfig) -> Iterator[tuple[tuple[str, ...], str]]:
        """The NetworkPolicy's callers must be known: from the install, or said by the user (paths from the root)."""
        policy = self.network_policy
        if policy.enabled and policy.allow_from_namespaces is None and callers_unknown(kserve):
            yield (
                ("namespaces", "networkPolicy", "allowFromNamespaces"),
                (
                    f"required: the default-deny NetworkPolicy of each model namespace would block model traffic: "
                    f"{_unknown_callers(kserve)}; `[]` admits only the namespace itself; or set "
                    "namespaces.networkPolicy.enabled: false to leave ingress open"
                ),
            )

    def pod_security_for(self, deployment_mode: str) -> PodSecurityLevel:
        if self.pod_security is not None:
            return self.pod_security
        return "restricted" if deployment_mode == "Standard" else "baseline"
