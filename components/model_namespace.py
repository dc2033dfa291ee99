"""A namespace the stack's models live in: created and owned by the stack, with Pod Security Admission labels
and a default-deny ingress NetworkPolicy that admits only what must reach the predictors."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

# Pod Security Standards version the level is judged by: pinned, so a cluster upgrade cannot tighten it unseen.
POD_SECURITY_VERSION = "v1.31"
NETWORK_POLICY_NAME = "kserve-predictors-ingress"


def pod_security_labels(level: str) -> dict[str, str]:
    labels = {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": POD_SECURITY_VERSION,
    }
    # Below `restricted`, still warn and audit against it, so the gap stays visible.
    for mode in ("warn", "audit"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = POD_SECURITY_VERSION
    return labels


@dataclass
class MetricsScraper:
    """Prometheus' namespace and the metrics ports it scrapes in this namespace."""

    namespace: str
    ports: list[int]


def network_policy_spec(allowed_namespaces: list[str], metrics_scraper: MetricsScraper | None = None) -> dict:
    """Ingress to every pod of the namespace only from the namespace itself and from `allowed_namespaces`, and
    from `metrics_scraper`'s namespace on its ports only."""
    peers: list[dict] = [{"podSelector": {}}]
    if allowed_namespaces:
        peers.append(
            {
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(allowed_namespaces)}
                    ]
                }
            }
        )
    rules: list[dict] = [{"from": peers}]
    if metrics_scraper is not None and metrics_scraper.ports:
        rules.append(
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": metrics_scraper.namespace}}}
                ],
                "ports": [{"protocol": "TCP", "port": port} for port in metrics_scraper.ports],
            }
        )
    return {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": rules}


@dataclass
class ModelNamespaceArgs:
    name: str
    pod_security: str
    # Namespaces whose pods may reach the predictors; None leaves ingress open (no NetworkPolicy).
    allowed_namespaces: list[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    # Admitted on the metrics ports only (when the NetworkPolicy exists); None: no monitoring.
    metrics_scraper: MetricsScraper | None = None


class ModelNamespace(pulumi.ComponentResource):
    def __init__(self, name: str, args: ModelNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:models:ModelNamespace", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={
                    **args.labels,
                    "app.kubernetes.io/managed-by": "pulumi",
                    **pod_security_labels(args.pod_security),
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        children: list[pulumi.Resource] = [self.namespace]
        if args.allowed_namespaces is not None:
            policy = network_policy_spec(args.allowed_namespaces, args.metrics_scraper)
            self.network_policy = k8s.networking.v1.NetworkPolicy(
                f"{name}/{NETWORK_POLICY_NAME}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=NETWORK_POLICY_NAME, namespace=args.name),
                spec=policy,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
            )
            children.append(self.network_policy)
        # Models wait for the namespace and its policy, so no predictor ever runs unprotected.
        self.ready: list[pulumi.Resource] = children
        self.name = pulumi.Output.from_input(args.name)
        self.register_outputs({"name": self.name})
