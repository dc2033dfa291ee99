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
