"""cert-manager: issues the KServe webhook's serving certificate, so it must be ready before KServe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.install.common import chart, namespace
from config.kserve import CertManagerConfig

CHART = "cert-manager"


def cert_manager_values() -> dict[str, Any]:
    """Chart values: CRDs installed by the chart (as KServe's installer does, `crds.enabled=true`)."""
    # `keep` adds helm.sh/resource-policy: keep, which protects the CRDs from a `helm uninstall`; under Pulumi the
    # install's CRD retention (see safety.py) is what keeps them.
    return {"crds": {"enabled": True, "keep": True}}


@dataclass
class CertManagerArgs:
    config: CertManagerConfig


class CertManager(pulumi.ComponentResource):
    """The jetstack chart; ready once its controller, cainjector and webhook Deployments are Available, the webhook
    Service has endpoints and the webhook has its CA bundle."""

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("kserve-platform:install:CertManager", name, None, opts)
        config = args.config
        self.namespace = namespace(config.namespace, parent=self)
        self.chart = chart(
            "cert-manager",
            parent=self,
            chart=CHART,
            repository=config.chart_repository,
            version=config.version,
            namespace=config.namespace,
            values=cert_manager_values(),
            depends_on=[self.namespace],
        )
        self.version = pulumi.Output.from_input(config.version)
        self.register_outputs({"version": self.version})
