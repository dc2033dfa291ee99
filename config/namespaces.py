"""`namespaces`: how the namespaces the stack creates for its models are secured."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.base import StrictModel
from config.kubernetes import DnsLabel, LabelMap

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]


class NetworkPolicyConfig(StrictModel):
    """A default-deny ingress NetworkPolicy per model namespace, admitting only what must reach the predictors."""

    enabled: bool = True
    # Further namespaces whose pods may call the predictors (e.g. `monitoring` for Prometheus scraping).
    allow_from_namespaces: list[DnsLabel] = Field(default_factory=list)


class NamespacesConfig(StrictModel):
    # Pod Security Admission level enforced in model namespaces. Unset: `restricted` in Standard mode, where every
    # pod KServe creates can meet it, and `baseline` (with `restricted` warnings) in Knative mode, whose injected
    # queue-proxy sidecar is outside this program's control.
    pod_security: PodSecurityLevel | None = None
    network_policy: NetworkPolicyConfig = Field(default_factory=NetworkPolicyConfig)
    labels: LabelMap = Field(default_factory=dict)

    def pod_security_for(self, deployment_mode: str) -> PodSecurityLevel:
        if self.pod_security is not None:
            return self.pod_security
        return "restricted" if deployment_mode == "Standard" else "baseline"

    def allowed_namespaces_for(self, deployment_mode: str) -> list[str] | None:
        """Namespaces admitted by the NetworkPolicy, or None when the policy is switched off."""
        if not self.network_policy.enabled:
            return None
        return sorted({*PREDICTOR_CLIENTS_BY_MODE[deployment_mode], *self.network_policy.allow_from_namespaces})


# Namespaces whose pods call the predictors, per deployment mode: the KServe controller, and the data path in
# front of the models (Envoy Gateway's proxies for Gateway API in Standard mode; Knative's activator and the Istio
# ingress gateway in Knative mode).
PREDICTOR_CLIENTS_BY_MODE: dict[str, tuple[str, ...]] = {
    "Standard": ("kserve", "envoy-gateway-system"),
    "Knative": ("kserve", "knative-serving", "istio-system"),
}
